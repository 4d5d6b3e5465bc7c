/*
 * f103-semihost: calls every ARM semihosting operation stdbg serves and
 * prints what each returned on the console (:tt), for
 * tests/target_io_semihosting.rs.
 *
 * Semihosting (ARM "Semihosting for AArch32 and AArch64", semihosting.rst
 * in ARM-software/abi-aa): on M-profile the call is `BKPT 0xAB` with the
 * operation number in r0 and the parameter (usually the address of a
 * block of words) in r1; the debugger serves it and puts the result in r0.
 *
 * Files are created relative to the debugger's base directory (the
 * working directory by default): semi-test.txt is written, appended to,
 * read, seeked, renamed to semi-renamed.txt and removed; semi-keep.txt
 * ("kept\n") is left behind.  "../semi-outside.txt" and "/tmp/semi-abs.txt"
 * must be refused (EACCES).  The command line (SYS_GET_CMDLINE) chooses
 * the end: "exit0" ends with SYS_EXIT ADP_Stopped_ApplicationExit (status
 * 0), anything else with SYS_EXIT_EXTENDED and status 3.  If the debugger
 * resumes after the exit call, "resumed after exit" is printed and the
 * image spins.  "bad" instead passes out-of-range lengths (SYS_WRITE,
 * SYS_OPEN) right after the command line and exits with status 0.
 */
#include <stdint.h>

#define SYS_OPEN          0x01u
#define SYS_CLOSE         0x02u
#define SYS_WRITEC        0x03u
#define SYS_WRITE0        0x04u
#define SYS_WRITE         0x05u
#define SYS_READ          0x06u
#define SYS_READC         0x07u
#define SYS_ISERROR       0x08u
#define SYS_ISTTY         0x09u
#define SYS_SEEK          0x0Au
#define SYS_FLEN          0x0Cu
#define SYS_TMPNAM        0x0Du
#define SYS_REMOVE        0x0Eu
#define SYS_RENAME        0x0Fu
#define SYS_CLOCK         0x10u
#define SYS_TIME          0x11u
#define SYS_ERRNO         0x13u
#define SYS_GET_CMDLINE   0x15u
#define SYS_HEAPINFO      0x16u
#define SYS_EXIT          0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define SYS_ELAPSED       0x30u
#define SYS_TICKFREQ      0x31u

#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* SYS_OPEN modes (fopen strings "r", "rb", ... "a+b" are 0..11). */
#define MODE_R 0u
#define MODE_W 4u
#define MODE_A 8u

__attribute__((noinline)) static int32_t sh_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile ("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static uint32_t slen(const char *s)
{
    uint32_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

static int32_t tt_out;

static void put(const char *s)
{
    uint32_t blk[3] = { (uint32_t)tt_out, (uint32_t)s, slen(s) };
    sh_call(SYS_WRITE, blk);
}

static void put_dec(int32_t v)
{
    char buf[12];
    int i = 11;
    uint32_t u = v < 0 ? (uint32_t)(-v) : (uint32_t)v;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0) {
        buf[--i] = '-';
    }
    put(&buf[i]);
}

/* "name: value\n" */
static void report(const char *name, int32_t v)
{
    put(name);
    put(": ");
    put_dec(v);
    put("\n");
}

static int32_t sh_open(const char *path, uint32_t mode)
{
    uint32_t blk[3] = { (uint32_t)path, mode, slen(path) };
    return sh_call(SYS_OPEN, blk);
}

static int32_t sh_close(int32_t h)
{
    uint32_t blk[1] = { (uint32_t)h };
    return sh_call(SYS_CLOSE, blk);
}

static int32_t sh_write(int32_t h, const void *p, uint32_t n)
{
    uint32_t blk[3] = { (uint32_t)h, (uint32_t)p, n };
    return sh_call(SYS_WRITE, blk);
}

static int32_t sh_read(int32_t h, void *p, uint32_t n)
{
    uint32_t blk[3] = { (uint32_t)h, (uint32_t)p, n };
    return sh_call(SYS_READ, blk);
}

static int32_t sh_one(uint32_t op, int32_t h)
{
    uint32_t blk[1] = { (uint32_t)h };
    return sh_call(op, blk);
}

static int32_t sh_seek(int32_t h, uint32_t pos)
{
    uint32_t blk[2] = { (uint32_t)h, pos };
    return sh_call(SYS_SEEK, blk);
}

static int32_t sh_errno(void)
{
    return sh_call(SYS_ERRNO, 0);
}

static char cmdline[64];

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int main(void)
{
    /* SYS_WRITEC and SYS_WRITE0 before any handle exists. */
    const char *c = "writec ok\n";
    while (*c) {
        sh_call(SYS_WRITEC, c++);
    }
    sh_call(SYS_WRITE0, "write0 ok\n");

    /* :tt handles: "r" is stdin, "w" stdout, "a" stderr. */
    int32_t tt_in = sh_open(":tt", MODE_R);
    tt_out = sh_open(":tt", MODE_W);
    int32_t tt_err = sh_open(":tt", MODE_A);
    report("tt handles distinct",
           tt_in > 0 && tt_out > 0 && tt_err > 0 && tt_in != tt_out && tt_out != tt_err);
    report("istty stdout", sh_one(SYS_ISTTY, tt_out));
    sh_write(tt_err, "to stderr\n", 10);

    /* Time. */
    report("clock valid", sh_call(SYS_CLOCK, 0) >= 0);
    report("time after 2020", sh_call(SYS_TIME, 0) > 1577836800);
    report("tickfreq", sh_call(SYS_TICKFREQ, 0));
    uint32_t t0[2] = { 0, 0 }, t1[2] = { 0, 0 };
    int32_t e0 = sh_call(SYS_ELAPSED, t0);
    int32_t e1 = sh_call(SYS_ELAPSED, t1);
    report("elapsed ok", e0 == 0 && e1 == 0);
    report("elapsed advances",
           t1[1] > t0[1] || (t1[1] == t0[1] && t1[0] > t0[0]));

    /* SYS_HEAPINFO: the parameter points to a word holding the block's address. */
    uint32_t heap[4] = { 1, 1, 1, 1 };
    uint32_t *heap_p = heap;
    sh_call(SYS_HEAPINFO, &heap_p);
    put("heapinfo: ");
    for (int i = 0; i < 4; i++) {
        put_dec((int32_t)heap[i]);
        put(i < 3 ? " " : "\n");
    }

    /* SYS_GET_CMDLINE. */
    uint32_t cl[2] = { (uint32_t)cmdline, sizeof cmdline };
    int32_t clr = sh_call(SYS_GET_CMDLINE, cl);
    report("cmdline result", clr);
    put("cmdline: [");
    put(cmdline);
    put("]\n");
    report("cmdline length", (int32_t)cl[1]);

    /* "bad": parameters a buggy firmware might pass; each must fail
     * cleanly, without the debugger reading gigabytes or stopping. */
    if (streq(cmdline, "bad")) {
        /* 16 bytes before the end of RAM, with a length far past it. */
        report("write len 0x7ffffff0 (bytes not written)",
               sh_write(tt_out, (const void *)0x20004ff0u, 0x7ffffff0u));
        /* A file name longer than any host accepts. */
        uint32_t op[3] = { (uint32_t)"semi-long.txt", MODE_W, 0x10000u };
        report("open name len 0x10000", sh_call(SYS_OPEN, op));
        report("errno", sh_errno());
        put("bad done\n");
        sh_call(SYS_EXIT, (const void *)ADP_STOPPED_APPLICATION_EXIT);
    }

    /* A file: write, read back, seek, length, EOF. */
    int32_t f = sh_open("semi-test.txt", MODE_W);
    report("open w", f > 0);
    report("write", sh_write(f, "hello semihosting\n", 18));
    report("istty file", sh_one(SYS_ISTTY, f));
    report("close", sh_close(f));
    f = sh_open("semi-test.txt", MODE_A);
    report("write appended", sh_write(f, "more\n", 5));
    sh_close(f);
    f = sh_open("semi-test.txt", MODE_R);
    report("flen", sh_one(SYS_FLEN, f));
    report("seek 6", sh_seek(f, 6));
    char buf[24] = { 0 };
    report("read 11 (0 = all)", sh_read(f, buf, 11));
    put("read: [");
    put(buf);
    put("]\n");
    sh_seek(f, 21);
    report("read 8 at 21 (bytes not read)", sh_read(f, buf, 8));
    report("read 4 at eof", sh_read(f, buf, 4));
    sh_close(f);

    /* Rename, then remove; a removed file cannot be opened. */
    const char *from = "semi-test.txt", *to = "semi-renamed.txt";
    uint32_t rn[4] = { (uint32_t)from, slen(from), (uint32_t)to, slen(to) };
    report("rename", sh_call(SYS_RENAME, rn));
    uint32_t rm[2] = { (uint32_t)to, slen(to) };
    report("remove", sh_call(SYS_REMOVE, rm));
    report("open removed", sh_open(to, MODE_R));
    report("errno", sh_errno());

    f = sh_open("semi-keep.txt", MODE_W);
    sh_write(f, "kept\n", 5);
    sh_close(f);

    /* Outside the base directory: refused. */
    report("open ../semi-outside.txt", sh_open("../semi-outside.txt", MODE_W));
    report("errno", sh_errno());
    report("open /tmp/semi-abs.txt", sh_open("/tmp/semi-abs.txt", MODE_W));
    report("errno", sh_errno());

    /* A handle that was never opened. */
    report("close 99", sh_close(99));
    report("errno", sh_errno());

    /* SYS_ISERROR on a failed and a good status. */
    uint32_t ie[1] = { (uint32_t)-1 };
    report("iserror -1", sh_call(SYS_ISERROR, ie));
    ie[0] = 0;
    report("iserror 0", sh_call(SYS_ISERROR, ie));

    /* SYS_TMPNAM: a name for identifier 7. */
    char tmp[32] = { 0 };
    uint32_t tn[3] = { (uint32_t)tmp, 7, sizeof tmp };
    report("tmpnam", sh_call(SYS_TMPNAM, tn));
    put("tmpnam: ");
    put(tmp);
    put("\n");

    /* SYS_READC: a byte from the console (-1 when the debugger has none). */
    report("readc", sh_call(SYS_READC, 0));
    report("close stdin", sh_close(tt_in));

    if (streq(cmdline, "exit0")) {
        put("exit 0\n");
        sh_call(SYS_EXIT, (const void *)ADP_STOPPED_APPLICATION_EXIT);
    } else {
        put("exit 3\n");
        uint32_t ex[2] = { ADP_STOPPED_APPLICATION_EXIT, 3 };
        sh_call(SYS_EXIT_EXTENDED, ex);
    }
    put("resumed after exit\n");
    for (;;) {
        __asm__ volatile ("");
    }
}
