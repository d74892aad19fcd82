// The dev page has no host to name protocol.js: it bundles the schemas and defines the global
// that protocol-loader.ts looks for first.
import * as protocol from '../../src/shared/protocol';
import '../editor/protocol-loader';

globalThis.__dcProtocol = protocol;
