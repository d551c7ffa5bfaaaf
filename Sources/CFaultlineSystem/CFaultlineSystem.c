#define _GNU_SOURCE
#include "CFaultlineSystem.h"

#include <errno.h>
#include <fcntl.h>

#if defined(__linux__)
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int faultline_open_beneath(int directory_fd, const char *path) {
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how = {0};
    how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long result = syscall(SYS_openat2, directory_fd, path, &how, sizeof(how));
    return (int)result;
#else
    (void)directory_fd;
    (void)path;
    errno = ENOSYS;
    return -1;
#endif
}

int faultline_open_directory(const char *path) {
#if defined(O_PATH)
    return open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#else
    return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#endif
}
