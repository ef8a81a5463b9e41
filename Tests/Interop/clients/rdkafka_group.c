/* A consumer-group member on the system librdkafka (Debian's 2.0.2), driven line by line by
 * Tests/Interop/test_group_topic_deletion.py.
 *
 *   rdkafka_group <bootstrap> <group> <assignment strategy> <topic>...
 *
 * Prints one line per event on stdout, flushed at once:
 *   ASSIGNMENT <topic>:<partition> ...   the whole assignment after each rebalance callback
 *   ERROR <name> <text>                  consumer errors (unknown topic after a deletion, ...)
 *   CLOSED <ms>                          after rd_kafka_consumer_close, with how long it took
 * Reads commands on stdin: "close" closes the consumer (leaving the group) and exits.
 * RDKAFKA_DEBUG=cgrp,protocol,... in the environment turns on librdkafka debug output (stderr). */
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_assignment(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    printf("ASSIGNMENT");
    for (int i = 0; i < assigned->cnt; i++)
        printf(" %s:%d", assigned->elems[i].topic, (int)assigned->elems[i].partition);
    printf("\n");
    fflush(stdout);
    rd_kafka_topic_partition_list_destroy(assigned);
}

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                      void *opaque) {
    (void)opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else rd_kafka_assign(rk, parts);
    } else {
        if (cooperative) rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
        else rd_kafka_assign(rk, NULL);
    }
    print_assignment(rk);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", name, errstr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s bootstrap group strategy topic...\n", argv[0]);
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", argv[1]);
    set(conf, "group.id", argv[2]);
    set(conf, "partition.assignment.strategy", argv[3]);
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "session.timeout.ms", "10000");
    set(conf, "heartbeat.interval.ms", "500");
    set(conf, "topic.metadata.refresh.interval.ms", "1000");
    if (getenv("RDKAFKA_DEBUG")) set(conf, "debug", getenv("RDKAFKA_DEBUG"));
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        return 2;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(argc - 4);
    for (int i = 4; i < argc; i++) rd_kafka_topic_partition_list_add(topics, argv[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        fprintf(stderr, "subscribe: %s\n", rd_kafka_err2str(err));
        return 2;
    }
    char line[256];
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                printf("ERROR %s %s\n", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
                fflush(stdout);
            }
            rd_kafka_message_destroy(m);
        }
        struct pollfd in = {.fd = 0, .events = POLLIN};
        if (poll(&in, 1, 0) <= 0) continue;
        if (!fgets(line, sizeof line, stdin)) break;
        if (strncmp(line, "close", 5) == 0) break;
    }
    long long started = now_ms();
    rd_kafka_consumer_close(rk);
    printf("CLOSED %lld\n", now_ms() - started);
    fflush(stdout);
    rd_kafka_destroy(rk);
    return 0;
}
