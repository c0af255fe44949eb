import { describe, expect, it } from 'vitest';
import { checkUrlForm, nonPublicRange, OutboundAddressError, parseIp, resolvePublicAddress } from '../../src/infra/outbound-address.js';

describe('nonPublicRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['0.0.0.0', '"this network"'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'unique local (private)'],
    ['fc00::1', 'unique local (private)'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378::1', 'IETF protocol assignment'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['64:ff9b::10.0.0.1', 'NAT64 private'],
    ['2002:c0a8:101::1', '6to4 private'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['3fff::1', 'documentation'],
    ['3ffe::1', null],
    ['4000::1', 'reserved'],
  ])('%s is %s', (address, name) => {
    expect(nonPublicRange(address)?.name ?? null).toBe(name);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is public',
    (address) => {
      expect(nonPublicRange(address)).toBeNull();
    },
  );

  it('parses IPv6 forms to the same bytes', () => {
    expect(parseIp('::ffff:127.0.0.1')?.bytes).toEqual(parseIp('0:0:0:0:0:ffff:7f00:0001')?.bytes);
    expect(parseIp('1::')?.bytes[1]).toBe(1);
    for (const bad of ['1:2:3', '1::2::3', '12345::', '1.2.3', '1.2.3.256', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8']) expect(parseIp(bad), bad).toBeNull();
  });
});

describe('checkUrlForm', () => {
  const refuse = (raw: string, allowHttp = false) => {
    try {
      checkUrlForm(raw, { allowHttp });
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundAddressError);
      return (err as Error).message;
    }
    throw new Error(`${raw} was accepted`);
  };

  it('takes absolute https URLs, and http ones only when allowed', () => {
    expect(checkUrlForm('https://example.com/hooks?x=1', { allowHttp: false }).hostname).toBe('example.com');
    expect(checkUrlForm('http://example.com/', { allowHttp: true }).protocol).toBe('http:');
    expect(refuse('http://example.com/')).toBe('url must use https (this server refuses plain http: WEBHOOK_ALLOW_HTTP is off)');
    expect(refuse('ftp://example.com/', true)).toBe('url must use https or http, got ftp');
    expect(refuse('/hooks')).toBe('url must be an absolute URL such as https://example.com/hooks, got "/hooks"');
    expect(refuse('https://user:pw@example.com/')).toBe('url must not carry a user name or password');
  });
});

describe('resolvePublicAddress', () => {
  const policy = { allowPrivate: false, allowHttp: true };
  const answering = (...addresses: string[]) => ({ resolve: async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) });

  it('returns the checked address to connect to', async () => {
    expect(await resolvePublicAddress('https://hooks.example/x', { ...policy, ...answering('93.184.216.34') })).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect((await resolvePublicAddress('https://[2606:4700::1]/', policy)).address).toBe('2606:4700::1');
  });

  it('refuses a host when any of its addresses is not public, naming the address and range', async () => {
    await expect(resolvePublicAddress('https://hooks.example/x', { ...policy, ...answering('93.184.216.34', '10.0.0.5') })).rejects.toThrow(
      'url resolves to 10.0.0.5 (host "hooks.example"), in the private range 10.0.0.0/8; webhooks are sent to public addresses only',
    );
    await expect(resolvePublicAddress('http://[::1]:8080/', policy)).rejects.toThrow('url resolves to ::1, in the loopback range ::1/128');
    // The URL parser turns other spellings of an IPv4 address into the dotted one before the check.
    await expect(resolvePublicAddress('http://2130706433/', policy)).rejects.toThrow('url resolves to 127.0.0.1, in the loopback range');
    await expect(resolvePublicAddress('http://0x7f.1/', policy)).rejects.toThrow('url resolves to 127.0.0.1, in the loopback range');
    await expect(resolvePublicAddress('http://[::ffff:169.254.169.254]/', policy)).rejects.toThrow('IPv4-mapped link-local');
  });

  it('accepts private addresses when the policy allows them', async () => {
    expect((await resolvePublicAddress('http://127.0.0.1:9/', { ...policy, allowPrivate: true })).address).toBe('127.0.0.1');
  });

  it('reports a host that does not resolve, and one whose resolver does not answer', async () => {
    const failing = { resolve: () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })) };
    await expect(resolvePublicAddress('https://nowhere.invalid/', { ...policy, ...failing })).rejects.toThrow('url host "nowhere.invalid" does not resolve (ENOTFOUND)');
    const silent = { resolve: () => new Promise<never>(() => undefined), dnsTimeoutMs: 20 };
    await expect(resolvePublicAddress('https://slow.example/', { ...policy, ...silent })).rejects.toThrow('url host "slow.example" does not resolve (ETIMEOUT)');
  });
});
