// GNU extensions for the network layer. A separate file because _GNU_SOURCE must precede every
// system header of a translation unit.
#define _GNU_SOURCE
#include "CShims.h"
#include <malloc.h>
#include <pthread.h>

int sluice_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

void sluice_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

int sluice_malloc_keep_freed(int mmap_threshold, int trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
}

void sluice_malloc_trim(void) { (void)malloc_trim(0); }
