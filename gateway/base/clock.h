/* clock.h — monotonic deadlines for condition-variable waits, so that a wall-clock jump can
 * neither stretch nor cut a wait. */
#ifndef CTGW_CLOCK_H
#define CTGW_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Initialises a condition variable whose timed waits use CLOCK_MONOTONIC. */
int gw_cond_init_monotonic(pthread_cond_t *cond);

/* The CLOCK_MONOTONIC time `ms` milliseconds from now, for pthread_cond_timedwait. */
struct timespec gw_deadline_in_ms(uint64_t ms);

/* Nanoseconds on CLOCK_MONOTONIC, for durations and deadlines. */
uint64_t gw_monotonic_ns(void);

#endif
