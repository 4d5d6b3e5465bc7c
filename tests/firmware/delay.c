#include "f103.h"

/* Busy loop of n iterations.  Kept out of line so that a debugger can
   break on it, step over it and "finish" out of it.  The empty volatile
   asm stops the compiler from deleting the loop. */
__attribute__((noinline)) void delay(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        __asm__ volatile ("");
    }
}
