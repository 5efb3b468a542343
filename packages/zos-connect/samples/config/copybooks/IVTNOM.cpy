      *****************************************************************
      * IVTNOM: message areas of the IMS IVP phone book, IVTNO and the
      * conversational IVTCV. The layout is IBM's IVTNOM copybook as
      * z/OS Connect IMS service projects use it, field for field:
      * a 59-byte input (the transaction code in a 10-byte field, then
      * the command and the record) and a 93-byte output.
      * z/OS Connect fills IN-LL and IN-ZZ from the real length and puts
      * the service's transaction code in IN-TRANCDE.
      *****************************************************************
       01  INPUT-MSG.
           02  IN-LL          PICTURE S9(4) COMP-5.
           02  IN-ZZ          PICTURE S9(4) COMP-5.
           02  IN-TRANCDE     PICTURE X(10).
           02  IN-COMMAND     PICTURE X(8).
           02  IN-RECORD.
               05  IN-LAST-NAME   PICTURE X(10).
               05  IN-FIRST-NAME  PICTURE X(10).
               05  IN-EXTENSION   PICTURE X(10).
               05  IN-ZIP-CODE    PICTURE X(7).

       01  OUTPUT-MSG.
           02  OUT-LL              PIC S9(4) COMP-5 VALUE +93.
           02  OUT-ZZ              PIC S9(4) COMP-5 VALUE +0.
           02  OUT-MESSAGE         PIC X(40).
           02  OUT-COMMAND         PIC X(8).
           02  OUT-RECORD.
               05  OUT-LAST-NAME   PIC X(10).
               05  OUT-FIRST-NAME  PIC X(10).
               05  OUT-EXTENSION   PIC X(10).
               05  OUT-ZIP-CODE    PIC X(7).
           02  OUT-SEGMENT-NO      PIC X(4) VALUE '0001'.
