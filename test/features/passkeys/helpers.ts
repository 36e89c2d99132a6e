import { expect } from 'vitest';
import { json, PASSWORD, stepUp } from '../../support/account.js';
import type { Browser } from '../../support/instance.js';
import type { CreationOptions, RequestOptions, SoftAuthenticator, Tamper } from './soft-authenticator.js';

/** Steps up with the password and asks for creation options. */
export async function registrationOptions(b: Browser, name?: string): Promise<CreationOptions> {
  expect((await stepUp(b, { password: PASSWORD })).status).toBe(200);
  const response = await b.fetch('/auth/passkeys/register/options', {
    method: 'POST',
    json: name === undefined ? {} : { name },
  });
  expect(response.status).toBe(200);
  return json<CreationOptions>(response);
}

/** Registers a passkey of `authenticator` for the signed-in user of `b`; returns its id. */
export async function registerPasskey(
  b: Browser,
  authenticator: SoftAuthenticator,
  options: { name?: string; tamper?: Tamper } = {},
): Promise<string> {
  const creation = await registrationOptions(b, options.name);
  const response = await b.fetch('/auth/passkeys/register', {
    method: 'POST',
    json: { credential: authenticator.create(creation, options.tamper) },
  });
  expect(response.status).toBe(201);
  return (await json<{ passkey: { id: string } }>(response)).passkey.id;
}

/** Asks for sign-in options (discoverable when no email). */
export async function loginOptions(b: Browser, email?: string): Promise<RequestOptions> {
  const response = await b.fetch('/auth/passkeys/login/options', {
    method: 'POST',
    json: email === undefined ? {} : { email },
  });
  expect(response.status).toBe(200);
  return json<RequestOptions>(response);
}

/** Signs in with a passkey; returns the response. */
export async function passkeyLogin(
  b: Browser,
  authenticator: SoftAuthenticator,
  options: { email?: string; tamper?: Tamper } = {},
): Promise<Response> {
  const request = await loginOptions(b, options.email);
  return b.fetch('/auth/passkeys/login', {
    method: 'POST',
    json: { credential: authenticator.get(request, options.tamper) },
  });
}

/** Step-up options of the signed-in user. */
export async function stepUpOptions(b: Browser): Promise<RequestOptions> {
  const response = await b.fetch('/auth/step-up/passkey/options', { method: 'POST' });
  expect(response.status).toBe(200);
  return json<RequestOptions>(response);
}

/** Steps up with a passkey. */
export async function passkeyStepUp(b: Browser, authenticator: SoftAuthenticator, tamper?: Tamper): Promise<Response> {
  const request = await stepUpOptions(b);
  return b.fetch('/auth/step-up', { method: 'POST', json: { passkey: authenticator.get(request, tamper) } });
}
