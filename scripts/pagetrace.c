/* Profiling aid for scripts/filamentd-text-order.sh (never linked into the daemon): preloaded with
   LD_PRELOAD into the program named by PAGETRACE_EXE, it makes that program's r-x mapping
   inaccessible; the first access to each page faults, the handler appends the page's file offset
   (8 bytes) to PAGETRACE_OUT.<pid> and makes the page accessible again. The result is the exact
   set of code pages a run touches, without the kernel's fault-around and read-ahead, which map
   whole neighbourhoods of each touched page. Any other SIGSEGV restores the previous handler and
   faults again, so a real crash still crashes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long base, end, fileoff;
static int outfd = -1;
static struct sigaction previous;

static void onsegv(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)ctx;
    unsigned long a = (unsigned long)si->si_addr;
    if (a >= base && a < end) {
        unsigned long page = a & ~4095UL;
        if (mprotect((void *)page, 4096, PROT_READ | PROT_EXEC) == 0) {
            unsigned long off = page - base + fileoff;
            if (write(outfd, &off, sizeof off) != sizeof off) { /* the trace is incomplete; the run goes on */ }
            return;
        }
    }
    sigaction(SIGSEGV, &previous, NULL);
}

__attribute__((constructor)) static void pagetrace_start(void) {
    const char *out = getenv("PAGETRACE_OUT"), *want = getenv("PAGETRACE_EXE");
    if (!out || !want) return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    if (strcmp(exe, want) != 0) return;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[8192];
    while (fgets(line, sizeof line, maps)) {
        unsigned long a, b, o; char perm[8], path[4096] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095s", &a, &b, perm, &o, path) == 5
            && strcmp(path, exe) == 0 && strcmp(perm, "r-xp") == 0) { base = a; end = b; fileoff = o; }
    }
    fclose(maps);
    if (!base) return;
    char name[4200];
    snprintf(name, sizeof name, "%s.%d", out, (int)getpid());
    outfd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (outfd < 0) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = onsegv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &previous);
    mprotect((void *)base, end - base, PROT_NONE);
}
