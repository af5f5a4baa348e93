/* The syscall-overhead probe: time N raw getpid calls and print the mean
 * cost of one in nanoseconds, one line per round. Raw syscall(2), because
 * glibc no longer caches getpid but may one day; static, so it runs in any
 * root. The thread's CPU clock, not the wall clock: time other processes
 * take from this one on a busy machine does not count.
 *
 * usage: getpid-loop N ROUNDS [allow-filter]
 * allow-filter first installs the smallest filter there is (return ALLOW),
 * to measure what having any filter at all costs on this kernel. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (argc > 3 && strcmp(argv[3], "allow-filter") == 0) {
    struct sock_filter allow[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {1, allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      perror("getpid-loop: seccomp");
      return 1;
    }
  }
  for (int r = 0; r < rounds; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("%.2f\n", ns / n);
  }
  return 0;
}
