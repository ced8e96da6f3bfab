import { describe } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import { lifecycleRules } from './lifecycle.js';

describe('trial lifecycle on the local provider', () => {
  lifecycleRules(() => createLocalProvider({ killGraceMs: 500 }));
});
