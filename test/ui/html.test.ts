/** The html tagged template escapes everything it did not build itself. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html } from '../../src/ui/html.ts';
import { pickLanguage } from '../../src/ui/i18n.ts';

describe('html``', () => {
  it('escapes interpolated text and attribute values', () => {
    const evil = `"><script>alert('x')</script>&\``;
    const out = html`<p title="${evil}">${evil}</p>`.value;
    assert.equal(
      out,
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;</p>',
    );
  });

  it('nests templates raw, escapes array items, drops null/undefined/false', () => {
    const items = ['<a>', 'b'];
    const out = html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}${0}`.value;
    assert.equal(out, '<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
    assert.equal(html`${['<x>', '<y>']}`.value, '&lt;x&gt;&lt;y&gt;');
  });

  it('escapeHtml handles every special character', () => {
    assert.equal(escapeHtml(`&<>"'\``), '&amp;&lt;&gt;&quot;&#39;&#96;');
  });
});

describe('pickLanguage', () => {
  it('picks the highest-q language we have, English otherwise', () => {
    assert.equal(pickLanguage(undefined), 'en');
    assert.equal(pickLanguage(''), 'en');
    assert.equal(pickLanguage('ja'), 'ja');
    assert.equal(pickLanguage('ja-JP,ja;q=0.9,en;q=0.8'), 'ja');
    assert.equal(pickLanguage('en-US,en;q=0.9,ja;q=0.8'), 'en');
    assert.equal(pickLanguage('fr, ja;q=0.5'), 'ja');
    assert.equal(pickLanguage('fr, de'), 'en');
    assert.equal(pickLanguage('ja;q=0, en;q=0.1'), 'en');
  });
});
