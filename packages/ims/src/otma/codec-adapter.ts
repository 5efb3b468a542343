/**
 * The OTMA transaction-state and client-bid fields this engine speaks. They used to be laid out here;
 * they now live in `@imsplex/codec` (one fact, one place: IMS Connect reads the same bytes), and this
 * module only re-exports them under the names the engine and its tests use.
 */
export {
  TRANSACTION_STATE_REST_LAYOUT,
  TRANSACTION_STATE_LENGTH,
  MEMBER_STATE_REST_LAYOUT,
  SyncOption,
  transactionSyncFlags,
  transactionSyncLevel,
  readTransactionRest,
  writeTransactionRest,
  readMemberRest,
  writeMemberRest,
  commitModeOf,
  syncLevelOf,
  tokenBytes,
  tokenId,
  nameText,
} from '@imsplex/codec';
