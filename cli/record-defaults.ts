// record's defaults the command line shows (kept apart from record.ts, so
// defining the commands loads none of the recorder).

/** Default flush interval (s): the trace on disk is at most this far behind. */
export const DEFAULT_FLUSH_S = 1;
