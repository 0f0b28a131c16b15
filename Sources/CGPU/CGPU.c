// The only compiled code in CGPU: a dladdr wrapper (dladdr needs _GNU_SOURCE, which Swift's Glibc lacks).
#define _GNU_SOURCE
#include <dlfcn.h>
#include "CGPU.h"

const char *cgpu_path_of_symbol(const void *address) {
    Dl_info info;
    if (dladdr(address, &info) == 0) return 0;
    return info.dli_fname;
}

#include <stdio.h>
void cgpu_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

// mbind(2) through syscall(2), which is variadic (Swift cannot call it) and has no glibc wrapper
// (libnuma's mbind is not part of glibc). MPOL_BIND = 2 (linux/mempolicy.h).
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

long cgpu_bind_to_numa_node(void *addr, unsigned long len, int node) {
    if (node < 0 || node >= 1024) return -EINVAL;
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
    mask[node / (8 * sizeof(unsigned long))] = 1UL << (node % (8 * sizeof(unsigned long)));
    long r = syscall(SYS_mbind, addr, len, 2 /* MPOL_BIND */, mask, 1024UL, 0U);
    return r == 0 ? 0 : -errno;
}
