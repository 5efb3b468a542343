      * IVTNO / IVTCV output message (93 bytes with LL/ZZ).
       01  OUTPUT-MSG.
           05  OUT-LL           PIC S9(3) COMP VALUE +93.
           05  OUT-ZZ           PIC S9(3) COMP VALUE +0.
           05  OUT-MESSAGE      PIC X(40).
           05  OUT-COMMAND      PIC X(8).
           05  OUT-LAST-NAME    PIC X(10).
           05  OUT-FIRST-NAME   PIC X(10).
           05  OUT-EXTENSION    PIC X(10).
           05  OUT-ZIP-CODE     PIC X(7).
           05  OUT-SEGMENT-NO   PIC X(4).
