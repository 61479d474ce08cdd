/* Baseline: the same measurements with libmosquitto used directly from C.
 * Build: cc -O2 c_client.c -lmosquitto -o c_client.
 * Usage: c_client PORT COUNT QOS [SIZE]          publish throughput
 *        c_client receive PORT COUNT QOS [SIZE]  receive throughput: a persistent
 *          session subscribes and goes away, COUNT messages are queued for it at the
 *          broker, then the time from reconnecting until all COUNT arrived is measured. */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static atomic_long done, received, subscribed;
static void on_publish(struct mosquitto *m, void *u, int mid) { (void)m; (void)u; (void)mid; atomic_fetch_add(&done, 1); }
static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg) {
    (void)m; (void)u; (void)msg; atomic_fetch_add(&received, 1);
}
static void on_subscribe(struct mosquitto *m, void *u, int mid, int n, const int *granted) {
    (void)m; (void)u; (void)mid; (void)n; (void)granted; atomic_store(&subscribed, 1);
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
/* CPU seconds of the whole process (every thread), user + system. */
static double cpu(void) {
    struct rusage u; getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static struct mosquitto *client(const char *id, bool clean) {
    struct mosquitto *m = mosquitto_new(id, clean, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 20);
    mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, 65535); /* as Phasor's default */
    return m;
}

static int connect_persistent(struct mosquitto *m, int port) {
    mosquitto_property *props = NULL;
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600);
    int rc = mosquitto_connect_bind_v5(m, "127.0.0.1", port, 30, NULL, props);
    mosquitto_property_free_all(&props);
    return rc;
}

static int receive(int port, int count, int qos, int size) {
    char id[64], topic[96]; snprintf(id, sizeof id, "bench-sub-c-%d", getpid());
    snprintf(topic, sizeof topic, "bench/recv/%s", id);
    struct mosquitto *s = client(id, false);
    mosquitto_subscribe_callback_set(s, on_subscribe);
    if (connect_persistent(s, port) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(s);
    mosquitto_subscribe(s, NULL, topic, qos);
    while (!atomic_load(&subscribed)) usleep(200);
    mosquitto_disconnect(s); mosquitto_loop_stop(s, false);

    char pid[64]; snprintf(pid, sizeof pid, "bench-feed-c-%d", getpid());
    struct mosquitto *p = client(pid, true);
    mosquitto_publish_callback_set(p, on_publish);
    if (mosquitto_connect(p, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(p);
    char *payload = malloc(size); memset(payload, 'a', size);
    for (int i = 0; i < count; i++) mosquitto_publish(p, NULL, topic, size, payload, 1, false);
    while (atomic_load(&done) < count) usleep(200);
    mosquitto_disconnect(p); mosquitto_loop_stop(p, false); mosquitto_destroy(p);

    mosquitto_message_callback_set(s, on_message);
    double start = now(), cpu_start = cpu();
    if (connect_persistent(s, port) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "reconnect failed\n"); return 1; }
    mosquitto_loop_start(s);
    while (atomic_load(&received) < count) usleep(200);
    double elapsed = now() - start, used = cpu() - cpu_start;
    printf("c     receive qos=%d n=%d size=%d elapsed=%.3fs rate=%.0f msg/s cpu=%.2fus/msg\n", qos, count, size, elapsed,
           count / elapsed, used * 1e6 / count);
    /* End the session at the broker so it keeps nothing. */
    mosquitto_disconnect(s); mosquitto_loop_stop(s, false); mosquitto_destroy(s);
    s = client(id, true);
    if (mosquitto_connect(s, "127.0.0.1", port, 30) == MOSQ_ERR_SUCCESS) mosquitto_disconnect(s);
    mosquitto_destroy(s);
    return 0;
}

int main(int argc, char **argv) {
    mosquitto_lib_init();
    if (argc >= 5 && strcmp(argv[1], "receive") == 0)
        return receive(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 20);
    if (argc < 4) { fprintf(stderr, "usage: c_client [receive] PORT COUNT QOS [SIZE]\n"); return 2; }
    int port = atoi(argv[1]), count = atoi(argv[2]), qos = atoi(argv[3]), size = argc > 4 ? atoi(argv[4]) : 20;
    char id[64]; snprintf(id, sizeof id, "bench-c-%d", getpid());
    struct mosquitto *m = client(id, true);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(m);
    usleep(200000);
    char *payload = malloc(size); memset(payload, 'a', size);
    double start = now(), cpu_start = cpu();
    for (int i = 0; i < count; i++) mosquitto_publish(m, NULL, "bench/c", size, payload, qos, false);
    while (atomic_load(&done) < count) usleep(200);
    double elapsed = now() - start, used = cpu() - cpu_start;
    printf("c     qos=%d n=%d size=%d elapsed=%.3fs rate=%.0f msg/s cpu=%.2fus/msg\n", qos, count, size, elapsed,
           count / elapsed, used * 1e6 / count);
    /* Untimed: one QoS 1 round trip, so the broker has read everything before the
     * next round starts (a QoS 0 burst sits in its socket buffer otherwise and slows
     * whichever client runs next). */
    mosquitto_publish(m, NULL, "bench/c", size, payload, 1, false);
    while (atomic_load(&done) < count + 1) usleep(200);
    mosquitto_disconnect(m); mosquitto_loop_stop(m, false); mosquitto_destroy(m); mosquitto_lib_cleanup();
    return 0;
}
