import { describe } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import { secretFormsRules } from './secret-forms.js';

describe('secrets in every form, on the local provider', () => {
  secretFormsRules(() => createLocalProvider({ killGraceMs: 500 }));
});
