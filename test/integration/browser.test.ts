/**
 * The demo page (/demo) and its client (/web/tidings-client.js) in a real
 * Chromium on the real stack: two tabs of one user get live notifications and
 * each other's reads; the gateway, a Tidings of its own on a fixed port,
 * restarts as another instance while events are published, and each tab
 * shows every event exactly once. The same client also runs on Node 20 with ws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import WebSocket from 'ws';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../../src/stack/process.ts';
import { createTidingsClient } from '../../web/tidings-client.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { launchChromium } from './chromium.ts';

/** What web/demo.html keeps on window.tidingsDemo. */
interface DemoState {
  received: string[];
  resumed: number[];
  resyncs: string[];
  client: { droppedDuplicates: number };
}
type DemoWindow = Window & { tidingsDemo: DemoState };

const SCREENSHOT = '.cache/browser/demo.png';

describe('the demo page in Chromium', () => {
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;
  let back: Harness;
  let gateway: Harness | undefined;
  let gatewayEnv: Record<string, string>;
  let browser: Browser;
  let producer: string;
  const user = `web-${randomUUID()}`;
  const ids: string[] = [];
  let tabs: Page[] = [];

  beforeAll(async () => {
    settings = await isolatedSettings();
    const [backPort, gatewayPort] = [await freePort(), await freePort()];
    back = await startWith(settings, { TIDINGS_ROLES: 'ingest,api,dedupe,router,projector', TIDINGS_HTTP_PORT: String(backPort), TIDINGS_INSTANCE_ID: `${settings.id}-back` });
    // The page comes from the api process; its sockets go to the gateway's port, which allows that origin.
    gatewayEnv = { TIDINGS_ROLES: 'gateway', TIDINGS_HTTP_PORT: String(gatewayPort), TIDINGS_WS_ORIGINS: back.tidings.url };
    gateway = await startWith(settings, { ...gatewayEnv, TIDINGS_INSTANCE_ID: `${settings.id}-gw1` });
    producer = await back.auth.sign({ userId: 'svc', roles: ['producer'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await back?.stop();
  });

  async function emit(title: string): Promise<string> {
    const { status, body } = await callApi(back, 'POST', '/v1/events', producer, { user_id: user, type: 'job_completed', title, message: `${title}: all tasks finished`, source_type: 'job', source_id: randomUUID() });
    expect(status).toBe(202);
    const id = body.notification_ids[user] as string;
    ids.push(id);
    return id;
  }
  const statusIs = (page: Page, status: string) => page.waitForSelector(`#status[data-status="${status}"]`, { state: 'attached', timeout: 30_000 });
  const badgeIs = (page: Page, count: number) => page.waitForSelector(`#badge[data-count="${count}"]`, { state: 'attached', timeout: 30_000 });
  const listed = (page: Page, want: string[]) => page.waitForFunction(
    (expected) => expected.every((id) => document.querySelector(`li[data-id="${id}"]`) !== null), want, { timeout: 30_000 });
  const listIds = (page: Page) => page.$$eval('li[data-id]', (items) => items.map((li) => (li as HTMLElement).dataset.id!));
  const demoState = (page: Page) => page.evaluate(() => {
    const demo = (window as unknown as DemoWindow).tidingsDemo;
    return { received: demo.received, resumed: demo.resumed, resyncs: demo.resyncs, dropped: demo.client.droppedDuplicates };
  });

  it('without a token the page says how to get one', async () => {
    const page = await browser.newPage();
    await page.goto(`${back.tidings.url}/demo`);
    expect(await page.textContent('#help')).toContain('./tidings token <user>');
    expect(await page.isVisible('#help')).toBe(true);
    await page.close();
    const script = await fetch(`${back.tidings.url}/web/tidings-client.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await script.text()).toContain('createTidingsClient');
  });

  it('two tabs of one user get each notification live, and a read in one drops the other\'s badge', async () => {
    const token = await back.auth.sign({ userId: user, roles: [] });
    const context = await browser.newContext({ viewport: { width: 720, height: 560 } });
    tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) {
      await tab.goto(`${back.tidings.url}/demo#token=${token}&ws=${encodeURIComponent(gateway!.tidings.wsUrl)}`);
      await statusIs(tab, 'open');
      await badgeIs(tab, 0);
    }
    const first = [await emit('Nightly build done'), await emit('Report ready'), await emit('Backup finished')];
    for (const tab of tabs) {
      await listed(tab, first);
      await badgeIs(tab, 3);
    }

    await tabs[0]!.click(`li[data-id="${first[0]}"] button.mark-read`);
    await tabs[0]!.waitForSelector(`li[data-id="${first[0]}"][data-read="true"]`, { state: 'attached' });
    await badgeIs(tabs[1]!, 2);
    // The other tab reloads its list when its count no longer matches: the item shows read there too.
    await tabs[1]!.waitForSelector(`li[data-id="${first[0]}"][data-read="true"]`, { state: 'attached' });
    await badgeIs(tabs[0]!, 2);

    mkdirSync('.cache/browser', { recursive: true });
    await tabs[0]!.screenshot({ path: SCREENSHOT });
  });

  it('a gateway restart as another instance, with events published while it is down: each tab shows every event once', async () => {
    expect(tabs).toHaveLength(2);
    await gateway!.stop();
    gateway = undefined;
    for (const tab of tabs) await statusIs(tab, 'reconnecting');
    const missed = [await emit('Missed 1'), await emit('Missed 2'), await emit('Missed 3'), await emit('Missed 4')];
    await waitUntilProcessed(back);

    gateway = await startWith(settings, { ...gatewayEnv, TIDINGS_INSTANCE_ID: `${settings.id}-gw2` });
    for (const tab of tabs) {
      await statusIs(tab, 'open');
      await listed(tab, missed);
    }
    const live = [await emit('Live after restart 1'), await emit('Live after restart 2')];
    for (const tab of tabs) {
      await listed(tab, live);
      await badgeIs(tab, 2 + missed.length + live.length);
      const shown = await listIds(tab);
      expect(shown.toSorted()).toEqual([...ids].toSorted());
      const state = await demoState(tab);
      // Every event came as a notification frame (the missed ones by resume, not by an inbox reload), once.
      expect(state.received.toSorted()).toEqual([...ids].toSorted());
      expect(state).toMatchObject({ resyncs: [], resumed: [missed.length], dropped: 0 });
    }
  });

  it('the same client runs on Node 20 with the ws package', async () => {
    const token = await back.auth.sign({ userId: user, roles: [] });
    const client = createTidingsClient({ url: gateway!.tidings.wsUrl, token: async () => token, WebSocket, apiUrl: back.tidings.url });
    const got: string[] = [];
    client.on('notification', (frame) => got.push(frame.notification.id));
    client.connect();
    try {
      await waitFor(() => (client.status === 'open' && client.position ? true : undefined), 'the Node client to open with a position');
      const id = await emit('From Node');
      await waitFor(() => (got.includes(id) ? true : undefined), 'the notification on the Node client');
      await expect(client.markAllRead()).resolves.toMatchObject({ type: 'mark_read', action: 'mark_all_read', notification_id: null });
      await waitFor(() => (client.unreadCount === 0 ? true : undefined), 'unread 0 on the Node client');
      const page = await client.listInbox({ limit: 100 });
      expect(page.notifications.map((n) => n.id).toSorted()).toEqual([...ids].toSorted());
      expect(page.notifications.every((n) => n.read)).toBe(true);
    } finally {
      client.close();
    }
    await waitUntilProcessed(back);
  });
});
