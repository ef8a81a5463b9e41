// C declarations Swift's Glibc module does not expose (epoll, eventfd, timerfd, sendfile) and a
// hardware CRC-32C. Kept tiny: each function exists because Swift cannot reach the C facility.
#ifndef SLUICE_CSHIMS_H
#define SLUICE_CSHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

/// CRC-32C (Castagnoli) continuing from `crc` (pass 0 to start). Uses SSE4.2 when the CPU has it.
uint32_t sluice_crc32c(uint32_t crc, const void *data, size_t length);

/// epoll_event is packed on x86_64; these accessors keep Swift away from its layout.
uint64_t sluice_epoll_event_data(const struct epoll_event *event);
uint32_t sluice_epoll_event_events(const struct epoll_event *event);
int sluice_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);

/// Blocks SIGPIPE process-wide so a peer closing mid-write yields EPIPE instead of killing us.
void sluice_ignore_sigpipe(void);

/// accept4 and pthread_setname_np are GNU extensions that Swift's Glibc module does not export.
int sluice_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
void sluice_set_thread_name(const char *name);

/// mallopt's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (malloc.h is not in Swift's Glibc module);
/// returns 1 when glibc took both.
int sluice_malloc_keep_freed(int mmap_threshold, int trim_threshold);
/// malloc_trim(0): gives free heap pages back to the kernel.
void sluice_malloc_trim(void);

#endif
