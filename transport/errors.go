package transport

import (
	"errors"
	"fmt"
)

var (
	// ErrMessageTooLarge: a row change encodes to more than the producer's
	// BatchBytes. Restarting does not help; raise the limit.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrOffsetGap: the consumer did not receive the partition's messages
	// contiguously (retention or a broker that lost its data removed some
	// before they were read). Restarting the direction recovers: the
	// source re-sends what was not applied.
	ErrOffsetGap = errors.New("offset gap")
	// ErrTxnGap: a complete transaction arrived after an incomplete one
	// with a lower position that was dropped and not re-sent before it, so
	// delivering it could let the target's checkpoint pass a transaction
	// it never applied. Restarting the direction recovers.
	ErrTxnGap = errors.New("transaction gap")
	// ErrTxnTooLarge: a transaction exceeds the consumer's MaxTxnBytes.
	// Restarting does not help; raise the limit.
	ErrTxnTooLarge = errors.New("transaction too large")
)

// MessageError is an error about one Kafka message, naming where it is.
type MessageError struct {
	Topic     string
	Partition int
	Offset    int64
	Err       error
}

func (e *MessageError) Error() string {
	return fmt.Sprintf("topic %s partition %d offset %d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }

// Retryable reports whether restarting the direction can get past the
// error: true for gaps, false for undecodable messages and size limits.
func (e *MessageError) Retryable() bool {
	return errors.Is(e.Err, ErrOffsetGap) || errors.Is(e.Err, ErrTxnGap)
}
