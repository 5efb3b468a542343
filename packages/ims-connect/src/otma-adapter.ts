/**
 * The OTMA transaction-state and client-bid fields IMS Connect exchanges with IMS. They used to be laid
 * out here; they now live in `@imsplex/codec` (one fact, one place: the IMS engine reads the same
 * bytes), and this module only re-exports them under the names IMS Connect uses.
 */
export {
  TRANSACTION_STATE_REST,
  type TransactionStateRest,
  MEMBER_STATE_REST,
  HOLD_QUEUE_DEPTH_REST_OFFSET,
  readHoldQueueDepth,
  readTransactionRest,
  writeTransactionRest,
  writeMemberRest,
} from '@imsplex/codec';
