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
