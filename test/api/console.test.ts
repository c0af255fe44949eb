import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/api/routes/console/index.js';
import { useTestApp } from '../helpers/use-app.js';

const t = useTestApp();

/** The page's script, stylesheet and icon, as its HTML names them. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]);
}

describe('the console is served by the API', () => {
  it('serves the page at / without an API key, under its own Content-Security-Policy', async () => {
    const res = await request(t.app.server).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).toContain('<div id="app"></div>');
    expect(assetsOf(res.text)).toEqual([
      expect.stringMatching(/^\/console\/favicon-[0-9a-f]{8}\.svg$/),
      expect.stringMatching(/^\/console\/main-\w+\.css$/),
      expect.stringMatching(/^\/console\/main-\w+\.js$/),
    ]);
  });

  it('serves the bundle with its content type, cached for good under a hashed name', async () => {
    const page = await request(t.app.server).get('/');
    const types: Record<string, RegExp> = {
      '.js': /^text\/javascript/,
      '.css': /^text\/css/,
      '.svg': /^image\/svg\+xml/,
    };
    for (const asset of assetsOf(page.text)) {
      const res = await request(t.app.server).get(asset).buffer(true);
      expect(res.status, asset).toBe(200);
      expect(res.headers['content-type']).toMatch(types[asset.slice(asset.lastIndexOf('.'))]);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    }
    const script = await request(t.app.server).get(assetsOf(page.text).find((a) => a.endsWith('.js'))!);
    // uPlot is bundled from node_modules; the key is read from sessionStorage, never from the URL.
    expect(script.text).toContain('uplot');
    expect(script.text).toContain('sessionStorage');
    const style = await request(t.app.server).get(assetsOf(page.text).find((a) => a.endsWith('.css'))!);
    expect(style.text).toContain('.u-legend');
  });

  it('answers an unknown console file with a 404 problem', async () => {
    const res = await request(t.app.server).get('/console/main-NOPE.js');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      code: 'not-found',
      detail: "console file 'main-NOPE.js' does not exist",
    });
  });

  it('keeps the console out of the OpenAPI document', async () => {
    const res = await request(t.app.server).get('/docs/json');
    expect(Object.keys(res.body.paths)).not.toContain('/');
    expect(Object.keys(res.body.paths).some((p) => p.startsWith('/console'))).toBe(false);
  });
});
