/** pachd address parsing (`pachctl connect` syntax, shared/pachyderm-api.md §3.2). */
import { PachCode, PachError } from '../../../src/pachyderm';
import { parsePachdAddress } from '../../../src/pachyderm/grpc/address';

describe('parsePachdAddress', () => {
  it.each([
    ['localhost', 'grpc', 'localhost', 30650, false, 'localhost:30650', 'grpc://localhost:30650'],
    ['localhost:80', 'grpc', 'localhost', 80, false, 'localhost:80', 'grpc://localhost:80'],
    ['grpc://pachd:1650', 'grpc', 'pachd', 1650, false, 'pachd:1650', 'grpc://pachd:1650'],
    [
      'grpcs://pachd.example.com',
      'grpcs',
      'pachd.example.com',
      30650,
      true,
      'pachd.example.com:30650',
      'grpcs://pachd.example.com:30650',
    ],
    [
      'http://10.0.0.5:30650',
      'http',
      '10.0.0.5',
      30650,
      false,
      '10.0.0.5:30650',
      'http://10.0.0.5:30650',
    ],
    [
      'https://proxy.example.com:443/',
      'https',
      'proxy.example.com',
      443,
      true,
      'proxy.example.com:443',
      'https://proxy.example.com:443',
    ],
    ['[::1]:1650', 'grpc', '::1', 1650, false, '[::1]:1650', 'grpc://[::1]:1650'],
    ['GRPC://Host:7', 'grpc', 'Host', 7, false, 'Host:7', 'grpc://Host:7'],
  ])('%s', (input, scheme, host, port, secure, target, qualified) => {
    expect(parsePachdAddress(input)).toEqual({ scheme, host, port, secure, target, qualified });
  });

  it('unix sockets', () => {
    expect(parsePachdAddress('unix:///var/run/pachd.sock')).toEqual({
      scheme: 'unix',
      host: '/var/run/pachd.sock',
      port: 0,
      secure: false,
      target: 'unix:///var/run/pachd.sock',
      qualified: 'unix:///var/run/pachd.sock',
    });
  });

  it.each([
    ['', /is empty/],
    ['ftp://host', /unknown scheme "ftp"/],
    ['grpc://host:1650/path', /no path, query or fragment/],
    ['host?x=1', /no path, query or fragment/],
    ['grpc://user@host', /user info/],
    ['host:0', /invalid port "0"/],
    ['host:65536', /invalid port "65536"/],
    ['host:http', /invalid port "http"/],
    ['::1', /IPv6 host in brackets/],
    ['grpc://:1650', /has no host/],
    ['unix://relative', /unix:\/\/\/absolute/],
  ])('refuses %j', (input, message) => {
    let err: unknown;
    try {
      parsePachdAddress(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PachError);
    expect((err as PachError).code).toBe(PachCode.INVALID_ARGUMENT);
    expect((err as PachError).message).toMatch(message);
    expect((err as PachError).message).toContain(JSON.stringify(input));
  });
});
