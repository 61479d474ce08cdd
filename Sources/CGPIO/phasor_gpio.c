#include "phasor_gpio.h"

#include <errno.h>
#include <linux/gpio.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int phasor_gpio_request_edges(int chip_fd, uint32_t line, int edges, int bias, uint32_t debounce_us,
                              const char *consumer) {
    struct gpio_v2_line_request request;
    memset(&request, 0, sizeof request);
    request.offsets[0] = line;
    request.num_lines = 1;
    strncpy(request.consumer, consumer, sizeof request.consumer - 1);
    uint64_t flags = GPIO_V2_LINE_FLAG_INPUT;
    if (edges & 1) flags |= GPIO_V2_LINE_FLAG_EDGE_RISING;
    if (edges & 2) flags |= GPIO_V2_LINE_FLAG_EDGE_FALLING;
    if (bias == 1) flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
    if (bias == 2) flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
    request.config.flags = flags;
    if (debounce_us > 0) {
        request.config.num_attrs = 1;
        request.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
        request.config.attrs[0].attr.debounce_period_us = debounce_us;
        request.config.attrs[0].mask = 1;
    }
    if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &request) < 0) return -errno;
    return request.fd;
}

int phasor_gpio_read_edge(int line_fd, int timeout_ms, phasor_gpio_edge *edge) {
    struct pollfd p = {.fd = line_fd, .events = POLLIN};
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -errno;
    if (ready == 0) return 0;
    struct gpio_v2_line_event event;
    ssize_t n = read(line_fd, &event, sizeof event);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -errno;
    if ((size_t)n != sizeof event) return -EIO;
    edge->timestamp_ns = event.timestamp_ns;
    edge->rising = event.id == GPIO_V2_LINE_EVENT_RISING_EDGE;
    edge->line_seqno = event.line_seqno;
    return 1;
}
