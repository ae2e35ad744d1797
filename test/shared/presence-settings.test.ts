/**
 * Review finding: PresenceInfoClaim text is shown to every member of the channel (demo page,
 * any UI). Removing C0/C1 controls leaves the bidirectional overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C) and the line/paragraph separators
 * (U+2028/9): a name like "\u202Eevil" renders reversed and can make one member's name read as
 * another's, or push a "(you)" marker around (Trojan Source style spoofing).
 */
import { expect } from 'chai';
import { configure } from '../../shared/dependencies.js';
import { presenceInfoFromClaims } from '../../shared/presence-settings.js';

describe('presence info from claims', () => {
  let restore = () => {};
  before(() => {
    restore = configure({ environment: { PRESENCE_INFO_CLAIM: 'name' } });
  });
  after(() => restore());

  it('removes bidirectional controls and line separators, keeps ordinary text and emoji joiners', () => {
    expect(presenceInfoFromClaims({ name: 'a\u202Enimda\u202C b\u2066c\u2069\u200Fd\u2028e\u2029f\u061Cg' })).to.equal('animda bcdefg');
    expect(presenceInfoFromClaims({ name: 'Zoë 👩\u200D💻' })).to.equal('Zoë 👩\u200D💻');
  });

  it('gives no info when nothing but such characters is left', () => {
    expect(presenceInfoFromClaims({ name: '\u202E\u2066' })).to.equal(undefined);
  });
});
