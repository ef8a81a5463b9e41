// A small driver around Debian's sarama 1.22 (golang-github-shopify-sarama-dev) for the interop
// tests: it is built offline in GOPATH mode against /usr/share/gocode. Each mode prints one line
// per fact for the Python test to read, and exits non-zero on any error.
//
//	produce <brokers> <topic> <partitions> <count> <baseTimestampMs>
//	offset <brokers> <topic> <partition> <timestampMs> <kafkaVersion>
//	member <brokers> <group> <topic> <name>
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func number(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail("not a number: %q", s)
	}
	return n
}

// clientID is SARAMA_CLIENT_ID when set (scripts/capture-golden.py labels frames by client id).
func clientID(fallback string) string {
	if id := os.Getenv("SARAMA_CLIENT_ID"); id != "" {
		return id
	}
	return fallback
}

// newestConfig is the newest protocol level sarama 1.22 knows that Kafka 3.9 served it with.
func newestConfig(client string) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = clientID(client)
	config.Version = sarama.V2_1_0_0
	return config
}

// produce sends count messages round-robin over the partitions with explicit timestamps
// base, base+10, ... (sarama writes them into record batches whose header maxTimestamp it
// leaves unset, -1).
func produce(brokers []string, topic string, partitions int32, count int, base int64) {
	config := newestConfig("sarama-producer")
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		fail("producer: %v", err)
	}
	defer producer.Close()
	for i := 0; i < count; i++ {
		msg := &sarama.ProducerMessage{
			Topic:     topic,
			Partition: int32(i) % partitions,
			Value:     sarama.StringEncoder(fmt.Sprintf("m%d", i)),
			Timestamp: time.Unix(0, (base+int64(i)*10)*int64(time.Millisecond)),
		}
		partition, offset, err := producer.SendMessage(msg)
		if err != nil {
			fail("send %d: %v", i, err)
		}
		fmt.Printf("PRODUCED %d %d\n", partition, offset)
	}
}

// offset asks ListOffsets through sarama's client: v1 at version 0.10.1+, v0 below it.
func offset(brokers []string, topic string, partition int32, timestamp int64, version string) {
	config := sarama.NewConfig()
	config.ClientID = clientID("sarama-offsets")
	v, err := sarama.ParseKafkaVersion(version)
	if err != nil {
		fail("version: %v", err)
	}
	config.Version = v
	client, err := sarama.NewClient(brokers, config)
	if err != nil {
		fail("client: %v", err)
	}
	defer client.Close()
	found, err := client.GetOffset(topic, partition, timestamp)
	if err != nil {
		fail("offset: %v", err)
	}
	fmt.Printf("OFFSET %d\n", found)
}

type member struct{ name string }

func (m member) Setup(session sarama.ConsumerGroupSession) error {
	var claimed []string
	for topic, partitions := range session.Claims() {
		for _, p := range partitions {
			claimed = append(claimed, fmt.Sprintf("%s/%d", topic, p))
		}
	}
	fmt.Printf("ASSIGNED %s %d %s\n", m.name, session.GenerationID(), strings.Join(claimed, ","))
	return nil
}

func (m member) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m member) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		fmt.Printf("CONSUMED %s %d %d %s\n", m.name, msg.Partition, msg.Offset, msg.Value)
		session.MarkMessage(msg, "")
	}
	return nil
}

// runMember joins the group (JoinGroup v1, SyncGroup, Heartbeat, OffsetFetch v1 and OffsetCommit
// v1 at this version) and consumes until SIGTERM; Close commits the marked offsets and leaves.
func runMember(brokers []string, group, topic, name string) {
	config := newestConfig("sarama-" + name)
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	config.Consumer.Group.Session.Timeout = 6 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	config.Consumer.Return.Errors = true
	consumer, err := sarama.NewConsumerGroup(brokers, group, config)
	if err != nil {
		fail("group: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		cancel()
	}()
	go func() {
		for err := range consumer.Errors() {
			fmt.Printf("ERROR %s %v\n", name, err)
		}
	}()
	for ctx.Err() == nil {
		if err := consumer.Consume(ctx, []string{topic}, member{name}); err != nil && ctx.Err() == nil {
			fail("consume: %v", err)
		}
	}
	if err := consumer.Close(); err != nil {
		fail("close: %v", err)
	}
	fmt.Printf("CLOSED %s\n", name)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: sarama-interop <mode> <brokers> ...")
	}
	brokers := strings.Split(os.Args[2], ",")
	args := os.Args[3:]
	switch os.Args[1] {
	case "produce":
		produce(brokers, args[0], int32(number(args[1])), int(number(args[2])), number(args[3]))
	case "offset":
		offset(brokers, args[0], int32(number(args[1])), number(args[2]), args[3])
	case "member":
		runMember(brokers, args[0], args[1], args[2])
	default:
		fail("unknown mode %q", os.Args[1])
	}
}
