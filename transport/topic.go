package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopic creates topic with the given number of partitions unless it
// exists, and waits until its metadata shows every partition with a leader.
// It is idempotent; an existing topic is left as it is, whatever its
// partition count. The create request goes to the cluster's controller
// (kafka-go routes it there); the replication factor is the cluster's
// default.
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions int) error {
	if len(brokers) == 0 || topic == "" || partitions < 1 {
		return fmt.Errorf("ensure topic %q: need brokers, a name and at least one partition", topic)
	}
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr}

	ready, err := topicReady(ctx, client, topic)
	if err != nil || ready {
		return err
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: -1,
	}}})
	if err != nil {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ready, err := topicReady(ctx, client, topic)
		if err != nil || ready {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %q created but not ready: %w", topic, ctx.Err())
		case <-tick.C:
		}
	}
}

// topicReady reports whether the topic exists and every partition has a
// leader.
func topicReady(ctx context.Context, client *kafka.Client, topic string) (bool, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return false, fmt.Errorf("metadata of topic %q: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return false, nil
			}
			return false, fmt.Errorf("metadata of topic %q: %w", topic, t.Error)
		}
		if len(t.Partitions) == 0 {
			return false, nil
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false, nil
			}
		}
		return true, nil
	}
	return false, nil
}
