#ifndef C_FAULTLINE_SYSTEM_H
#define C_FAULTLINE_SYSTEM_H

/// System calls Swift cannot make directly (variadic `syscall`), for opening body files safely, and the C library's
/// memory release.

/// Opens `path` relative to the directory `directory_fd` for reading, refusing any path that leaves that directory
/// (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`), without blocking on a FIFO (`O_NONBLOCK`), and
/// without becoming the controlling terminal. Returns the descriptor, or -1 with `errno` set; `errno` is `ENOSYS`
/// when the kernel has no `openat2` (before Linux 5.6) and the caller must check the opened file's real path itself.
int faultline_open_beneath(int directory_fd, const char *path);

/// Opens the directory at `path` to open files beneath it (`O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC`): a last
/// component that is a symbolic link is refused. Returns the descriptor, or -1 with `errno` set.
int faultline_open_directory(const char *path);

/// Catches SIGINT and SIGTERM with `sigaction` from now on: each signal caught writes its number as one byte to a
/// pipe whose read end is returned (a self-pipe, which cannot lose a signal the way a dispatch source under load
/// can). Returns -1 with `errno` set when the pipe cannot be made.
int faultline_catch_termination_signals(void);

/// Gives memory the allocator holds free back to the system (glibc's `malloc_trim(0)`, over every arena), so that
/// letting go of a large journal or scenario shows in the process's resident size. Returns 1 when memory was given
/// back, 0 when none was or the C library has no such call.
int faultline_release_free_memory(void);

/// How many links (names) the open file `fd` has left: 0 once it was deleted. Returns -1 with `errno` set when `fstat`
/// fails. (Swift sees `struct stat` through several modules, and which one it picks varies between builds.)
long faultline_link_count(int fd);

#endif
