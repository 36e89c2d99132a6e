// `tokenward/next` is always bundled by Next.js, which maps the bare `next/headers` and
// `next/navigation` to the right build for each layer (route handlers, server components);
// `next/navigation.js` would bypass that mapping. Node's own resolution (NodeNext) needs the
// file name, so these bare names are declared here with the types of those files.
declare module 'next/headers' {
  export * from 'next/headers.js';
}
declare module 'next/navigation' {
  export * from 'next/navigation.js';
}
