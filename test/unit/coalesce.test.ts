// The curation editor's refresh during a job: a job's results arrive record by record, and each
// `changed` makes the page fetch again; they are coalesced (src/core/coalesce.ts).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { coalesce } from '../../src/core/coalesce';

describe('coalesce', () => {
  it('a burst: the first at once, the rest as one call with the last value when the interval is over', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const sent: number[] = [];
    const notify = coalesce((v: number) => sent.push(v), 200);
    for (let i = 1; i <= 500; i++) notify(i);
    assert.deepEqual(sent, [1]);
    t.mock.timers.tick(199);
    assert.deepEqual(sent, [1]);
    t.mock.timers.tick(1);
    assert.deepEqual(sent, [1, 500]);
    t.mock.timers.tick(1000);
    assert.deepEqual(sent, [1, 500], 'nothing more once the burst is sent');
  });

  it('a steady stream: one call per interval, never starved', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const sent: number[] = [];
    const notify = coalesce((v: number) => sent.push(v), 200);
    for (let i = 1; i <= 100; i++) {
      notify(i);
      t.mock.timers.tick(20); // 50 a second for 2 s
    }
    t.mock.timers.tick(200);
    assert.ok(sent.length >= 10 && sent.length <= 12, `${sent.length} calls in 2 s`);
    assert.equal(sent.at(-1), 100, 'the last value is sent');
  });

  it('an urgent call goes at once and stands for what was pending', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const sent: string[] = [];
    const notify = coalesce((v: string) => sent.push(v), 200);
    notify('job 1');
    notify('job 2');
    notify('undo', true);
    assert.deepEqual(sent, ['job 1', 'undo']);
    t.mock.timers.tick(500);
    assert.deepEqual(sent, ['job 1', 'undo'], 'the pending one was dropped: the urgent call carried the state');
  });

  it('after a quiet interval a call goes at once again; cancel drops the pending one', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const sent: number[] = [];
    const notify = coalesce((v: number) => sent.push(v), 200);
    notify(1);
    t.mock.timers.tick(300);
    notify(2);
    assert.deepEqual(sent, [1, 2]);
    notify(3);
    notify.cancel();
    t.mock.timers.tick(500);
    assert.deepEqual(sent, [1, 2]);
  });
});
