/* The syscall-overhead probe: time N raw getpid calls and print the mean
 * cost of one in nanoseconds. Raw syscall(2), because glibc no longer
 * caches getpid but may one day; static, so it runs in any root. The
 * thread's CPU clock, not the wall clock: time other processes take from
 * this one on a busy machine does not count. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  /* One line per round; the benchmark keeps the best. */
  for (int r = 0; r < reps; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("%.2f\n", ns / n);
  }
  return 0;
}
