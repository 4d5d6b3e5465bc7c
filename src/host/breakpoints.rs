//! Breakpoints (FPB) and watchpoints (DWT) bookkeeping (to be written).
