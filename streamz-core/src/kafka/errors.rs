//! Turning rdkafka's errors into [`StreamsError`]s.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::StreamsError;

/// A [`StreamsError::Kafka`] for `err`, saying what was being done.
pub(crate) fn kafka_error(doing: &str, err: KafkaError) -> StreamsError {
    let retriable = is_transient(&err);
    StreamsError::Kafka { message: format!("{doing}: {err}"), retriable }
}

/// Whether `err` may go away by itself (a broker restarting, a new topic's metadata not yet
/// everywhere, a rebalance under way): the client retries, the application carries on.
pub(crate) fn is_transient(err: &KafkaError) -> bool {
    match err.rdkafka_error_code() {
        Some(code) => matches!(
            code,
            RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::QueueFull
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NetworkException
                | RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::UnknownPartition
                | RDKafkaErrorCode::NotCoordinator
                | RDKafkaErrorCode::CoordinatorNotAvailable
                | RDKafkaErrorCode::CoordinatorLoadInProgress
        ),
        None => false,
    }
}
