#include <sys/stat.h>
#define _GNU_SOURCE
#include "CFaultlineSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

static int faultline_signal_pipe_write = -1;

static void faultline_signal_handler(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    if (faultline_signal_pipe_write >= 0) {
        ssize_t ignored = write(faultline_signal_pipe_write, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

int faultline_catch_termination_signals(void) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    // A full pipe must never block the handler: the signals already queued say enough.
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    faultline_signal_pipe_write = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = faultline_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    return fds[0];
}

int faultline_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

long faultline_link_count(int fd) {
    struct stat status;
    if (fstat(fd, &status) != 0) {
        return -1;
    }
    return (long)status.st_nlink;
}
