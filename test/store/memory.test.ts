import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { describeStoreConformance } from './store-conformance.js';

describeStoreConformance('memory', () => createMemoryStore());
