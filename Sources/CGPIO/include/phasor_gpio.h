// Thin C face of the Linux GPIO character device (uAPI v2, <linux/gpio.h>):
// the request struct and ioctl numbers are C macros Swift cannot import.
#ifndef PHASOR_GPIO_H
#define PHASOR_GPIO_H

#include <stdint.h>

/// Requests edge events on one line of an open /dev/gpiochipN as an input.
/// edges: 1 rising, 2 falling, 3 both. bias: 0 as is, 1 pull-up, 2 pull-down.
/// debounce_us: the kernel's own debounce (0 = none; not every chip has it).
/// Returns the line's event file descriptor, or -errno.
int phasor_gpio_request_edges(int chip_fd, uint32_t line, int edges, int bias, uint32_t debounce_us,
                              const char *consumer);

/// One edge event as the kernel reports it.
typedef struct {
    uint64_t timestamp_ns;   // CLOCK_MONOTONIC
    uint32_t rising;         // 1 rising, 0 falling
    uint32_t line_seqno;     // per-line sequence number: a gap means the kernel dropped events
} phasor_gpio_edge;

/// Waits up to timeout_ms for the next event. Returns 1 with *edge filled, 0 on timeout, -errno on error.
int phasor_gpio_read_edge(int line_fd, int timeout_ms, phasor_gpio_edge *edge);

#endif
