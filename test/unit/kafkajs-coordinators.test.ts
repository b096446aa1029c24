/**
 * The kafkajs patch (patches/kafkajs+2.2.4.patch) keeps a transactional
 * producer's coordinators instead of sending FindCoordinator before every
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn. A kept
 * coordinator must be dropped when a broker says it no longer is one, and the
 * refused request sent to the new one. Pure logic: the eosManager against a
 * cluster of plain objects that answer as brokers do
 * (test/integration/transaction-coordinators.test.ts counts the requests on
 * the real broker).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createEosManager = require('kafkajs/src/producer/eosManager') as (args: unknown) => EosManager;
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };
const TRANSACTION = 1; // kafkajs/src/protocol/coordinatorTypes
const NOT_COORDINATOR = 16;
const GROUP_COORDINATOR_NOT_AVAILABLE = 15;

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topics: { topic: string; partitions: { partition: number }[] }[]): Promise<void>;
  sendOffsets(args: { consumerGroupId: string; topics: unknown[] }): Promise<void>;
  commit(): Promise<void>;
}

type Call = { nodeId: number; api: string };

/** Brokers 1 and 2; `coordinator()` says which one FindCoordinator names; `refuse` makes a broker answer an API with an error code once. */
function cluster() {
  const calls: Call[] = [];
  const lookups: { groupId: string; coordinatorType: number }[] = [];
  const refuse = new Map<string, number>(); // `${nodeId}:${api}` → error code, once
  let coordinatorNode = 1;
  const broker = (nodeId: number) => {
    const answer = (api: string, result: unknown = {}) => async () => {
      calls.push({ nodeId, api });
      const code = refuse.get(`${nodeId}:${api}`);
      if (code !== undefined) {
        refuse.delete(`${nodeId}:${api}`);
        throw createErrorFromCode(code);
      }
      return result;
    };
    return {
      nodeId,
      initProducerId: answer('InitProducerId', { producerId: 7, producerEpoch: 0 }),
      addPartitionsToTxn: answer('AddPartitionsToTxn'),
      addOffsetsToTxn: answer('AddOffsetsToTxn'),
      txnOffsetCommit: answer('TxnOffsetCommit'),
      endTxn: answer('EndTxn'),
    };
  };
  const brokers = new Map([[1, broker(1)], [2, broker(2)]]);
  return {
    calls,
    lookups,
    refuse,
    moveCoordinator: (nodeId: number) => { coordinatorNode = nodeId; },
    object: {
      retry: { retries: 2, initialRetryTime: 1, maxRetryTime: 2 },
      refreshMetadataIfNecessary: async () => undefined,
      findGroupCoordinator: async ({ groupId, coordinatorType }: { groupId: string; coordinatorType: number }) => {
        lookups.push({ groupId, coordinatorType });
        return brokers.get(coordinatorNode)!;
      },
      findBroker: async ({ nodeId }: { nodeId: number }) => brokers.get(nodeId)!,
      markOffsetAsCommitted: () => undefined,
    },
  };
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function transactionOn(c: ReturnType<typeof cluster>): Promise<EosManager> {
  const eos = createEosManager({ logger: silent, cluster: c.object, transactional: true, transactionalId: 'tx-1' });
  await eos.initProducerId();
  return eos;
}

/** One transaction: a partition added, offsets sent for group g, committed. */
async function oneTransaction(eos: EosManager, partition: number): Promise<void> {
  eos.beginTransaction();
  await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition }] }]);
  await eos.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '1' }] }] });
  await eos.commit();
}

describe('kafkajs transaction coordinators (patched)', () => {
  it('looks each coordinator up once, however many transactions follow', async () => {
    const c = cluster();
    const eos = await transactionOn(c);
    const afterInit = c.lookups.length;
    for (let i = 0; i < 5; i++) await oneTransaction(eos, i);
    // One lookup of the transaction coordinator and one of the group's, for five transactions (twenty before the patch).
    expect(c.lookups.slice(afterInit)).toEqual([
      { groupId: 'tx-1', coordinatorType: TRANSACTION },
      { groupId: 'g', coordinatorType: 0 },
    ]);
    expect(c.calls.filter((x) => x.api === 'EndTxn')).toHaveLength(5);
  });

  it('drops a coordinator that says it no longer is one, and sends the refused request to the new one', async () => {
    const c = cluster();
    const eos = await transactionOn(c);
    await oneTransaction(eos, 0);
    c.moveCoordinator(2);
    c.refuse.set('1:AddPartitionsToTxn', NOT_COORDINATOR);
    c.refuse.set('1:TxnOffsetCommit', GROUP_COORDINATOR_NOT_AVAILABLE);
    const before = c.calls.length;
    await oneTransaction(eos, 1);
    expect(c.calls.slice(before)).toEqual([
      { nodeId: 1, api: 'AddPartitionsToTxn' }, // refused: not the coordinator
      { nodeId: 2, api: 'AddPartitionsToTxn' },
      { nodeId: 2, api: 'AddOffsetsToTxn' }, // the transaction coordinator was looked up again above
      { nodeId: 1, api: 'TxnOffsetCommit' }, // the group's coordinator is kept apart, refused here
      { nodeId: 2, api: 'TxnOffsetCommit' },
      { nodeId: 2, api: 'EndTxn' },
    ]);
    // The new coordinators are kept in turn.
    const lookups = c.lookups.length;
    await oneTransaction(eos, 2);
    expect(c.lookups.length).toBe(lookups);
  });

  it('passes other errors through and keeps the coordinator', async () => {
    const c = cluster();
    const eos = await transactionOn(c);
    await oneTransaction(eos, 0);
    const lookups = c.lookups.length;
    c.refuse.set('1:EndTxn', 47); // INVALID_PRODUCER_EPOCH: fenced, not a stale coordinator
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 1 }] }]);
    await expect(eos.commit()).rejects.toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
    expect(c.calls.filter((x) => x.api === 'EndTxn')).toHaveLength(2); // not sent again
    expect(c.lookups.length).toBe(lookups);
  });
});
