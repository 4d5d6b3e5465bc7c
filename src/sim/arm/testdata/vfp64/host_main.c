/* Host side of the vfp64 end-to-end test: runs dp_run() from dp.c and prints
 * each result as 16 hex digits, one per line. */
#include <stdint.h>
#include <stdio.h>

unsigned dp_run(uint64_t *out);

int main(void)
{
    static uint64_t out[1024];
    unsigned n = dp_run(out);
    for (unsigned i = 0; i < n; i++)
        printf("%016llx\n", (unsigned long long)out[i]);
    return 0;
}
