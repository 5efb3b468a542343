      * IVTNO / IVTCV input message: the IMS IVP phone book.
      * IN-LL and IN-ZZ are filled by z/OS Connect; IN-TRANCODE gets the
      * service's transaction code. The 8-byte trancode and one blank
      * come first, as the imsplex IMS engine's IVP programs read them.
       01  INPUT-MSG.
           05  IN-LL            PIC S9(3) COMP.
           05  IN-ZZ            PIC S9(3) COMP.
           05  IN-TRANCODE      PIC X(8).
           05  FILLER           PIC X.
           05  IN-COMMAND       PIC X(8).
           05  IN-LAST-NAME     PIC X(10).
           05  IN-FIRST-NAME    PIC X(10).
           05  IN-EXTENSION     PIC X(10).
           05  IN-ZIP-CODE      PIC X(7).
