/* Baseline: the same measurement with libmosquitto used directly from C.
 * Build: cc -O2 c_client.c -lmosquitto -o c_client. Usage: c_client PORT COUNT QOS [SIZE] */
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long done;
static void on_publish(struct mosquitto *m, void *u, int mid) { (void)m; (void)u; (void)mid; atomic_fetch_add(&done, 1); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: c_client PORT COUNT QOS [SIZE]\n"); return 2; }
    int port = atoi(argv[1]), count = atoi(argv[2]), qos = atoi(argv[3]), size = argc > 4 ? atoi(argv[4]) : 20;
    char id[64]; snprintf(id, sizeof id, "bench-c-%d", getpid());
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 20);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(m);
    usleep(200000);
    char *payload = malloc(size); memset(payload, 'a', size);
    double start = now();
    for (int i = 0; i < count; i++) mosquitto_publish(m, NULL, "bench/c", size, payload, qos, false);
    while (atomic_load(&done) < count) usleep(200);
    double elapsed = now() - start;
    printf("c     qos=%d n=%d size=%d elapsed=%.3fs rate=%.0f msg/s\n", qos, count, size, elapsed, count / elapsed);
    mosquitto_disconnect(m); mosquitto_loop_stop(m, false); mosquitto_destroy(m); mosquitto_lib_cleanup();
    return 0;
}
