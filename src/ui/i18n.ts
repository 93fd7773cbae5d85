/**
 * English and Japanese for every page, and which of the two a page speaks.
 *
 * The language, strongest first: the user's own choice (the switch on every page, remembered in a
 * cookie), the authorization request's `ui_locales` (OpenID Connect Core §3.1.2.1: the end-user's
 * preferred languages, in order, kept through the interaction), then Accept-Language (RFC 9110
 * §12.5.4: the highest q-value among the languages we have wins), then English.
 *
 * Scope wording comes from the scope catalogue (`access/scopes.ts`), so the consent page and the
 * tools never disagree. The Japanese is written, not translated: one word for signing in (サインイン),
 * full-width punctuation, no colon-joined fragments.
 */
import { type Role, scopeInfo } from '../access/scopes.ts';
import { html } from './html.ts';

export const LANGS = ['en', 'ja'] as const;
export type Lang = (typeof LANGS)[number];

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The language a tag names, if we have it (`ja-JP` → ja, `en-GB` → en). */
function langOfTag(tag: string): Lang | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return isLang(primary) ? primary : undefined;
}

export function pickLanguage(acceptLanguage: string | undefined): Lang {
  return fromAcceptLanguage(acceptLanguage) ?? 'en';
}

function fromAcceptLanguage(acceptLanguage: string | undefined): Lang | undefined {
  let best: { lang: Lang; q: number } | undefined;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang = langOfTag(tag);
    if (lang && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang;
}

/** `ui_locales`: space-separated language tags, most preferred first; the first one we have wins. */
export function fromUiLocales(uiLocales: unknown): Lang | undefined {
  if (typeof uiLocales !== 'string') return undefined;
  for (const tag of uiLocales.split(' ').slice(0, 10)) {
    const lang = langOfTag(tag);
    if (lang) return lang;
  }
  return undefined;
}

export interface LanguageSignals {
  /** The user's own choice: the switch's `lang` parameter, or the cookie that remembers it. */
  readonly chosen?: unknown;
  readonly uiLocales?: unknown;
  readonly acceptLanguage?: string;
}

export function resolveLanguage(signals: LanguageSignals): Lang {
  if (isLang(signals.chosen)) return signals.chosen;
  return fromUiLocales(signals.uiLocales) ?? fromAcceptLanguage(signals.acceptLanguage) ?? 'en';
}

export function otherLanguage(lang: Lang): Lang {
  return lang === 'en' ? 'ja' : 'en';
}

/** Every page's switch names the other language in that language. */
export const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', ja: '日本語' };

const client = (name: string) => html`<span class="client">${name}</span>`;

const en = {
  languageSwitch: 'Language',
  /** A parenthetical aside, with the language's own brackets. */
  aside: (text: string) => `(${text})`,
  signInTitle: 'Sign in',
  signInTo: (name: string) => html`Sign in to continue to ${client(name)}.`,
  signInToAccount: 'Sign in to see and manage the apps that can use your account.',
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  cancel: 'Cancel',
  invalidCredentials: 'The username or password is incorrect.',
  signInWith: (name: string) => `Sign in with ${name}`,
  orWithPassword: 'Or sign in with a Sekisho username and password',
  localLoginOff: 'Sign-in with a Sekisho password is turned off on this server.',
  throttled: (minutes: number) =>
    `Too many sign-in attempts. Please wait about ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`,
  busy: (seconds: number) =>
    `Many people are signing in right now. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
  busyHere: (seconds: number) =>
    `Too many sign-ins from your network are being checked right now. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
  demoTitle: 'Demo accounts',
  demoNote: 'Demo mode only. These passwords are public — never enable demo mode in production.',
  role: 'Role',
  roleName: (role: string) => ROLE_NAMES.en[role as Role] ?? role,
  consentTitle: 'Allow access?',
  consentLead: (name: string) => html`${client(name)} wants to use your Sekisho account.`,
  signedInAs: 'Signed in as',
  notYou: 'Not you? Use another account',
  unverifiedName: 'The app chose this name itself; Sekisho has not verified it.',
  unverifiedDetails:
    'The app supplied this name and its other details itself; Sekisho has not verified them.',
  website: 'Website',
  redirectsTo: 'Returns to',
  returnsToDevice: 'the device that showed you the code',
  localhostWarning:
    'This app receives the answer on your own computer (localhost). Continue only if you started it yourself just now.',
  willAllow: 'It will be able to',
  withheld: 'Not granted — your account does not allow these',
  remember: 'Remember my decision for this app',
  allow: 'Allow',
  deny: 'Deny',
  errorCode: 'Error code',
  errorDetail: 'Details for the app’s developer',
  accountTitle: 'Apps you have authorized',
  accountLead: 'These apps can use Sekisho as you. Revoking access signs the app out at once.',
  noApps: 'No apps have access to your account.',
  clientId: 'Client ID',
  authorizedOn: 'First authorized',
  lastUsed: 'Last used',
  never: 'Not yet',
  revoke: 'Revoke access',
  signOut: 'Sign out',
  revoked: (name: string) => `Access for ${name} was revoked.`,
  timeZoneNote: 'Times are in UTC.',
  scopeDescription: (scope: string) => scopeInfo(scope)?.description.en ?? OIDC_WORDS.en[scope] ?? scope,
  deviceTitle: 'Connect a device',
  deviceLead: 'Enter the code shown on your device or in your terminal.',
  deviceCodeLabel: 'Code',
  deviceCodeHint: 'Letters only; dashes and spaces do not matter.',
  deviceContinue: 'Continue',
  deviceProblem: (p: DeviceProblemCode) => DEVICE_PROBLEMS.en[p],
  deviceDenied: 'You denied the request. The device gets no access.',
  deviceConfirmTitle: 'Is this your device?',
  deviceConfirmLead: 'asks to use your Sekisho account from a device.',
  deviceMatchWarning:
    'Continue only if your device shows this same code and you started this yourself. If someone else gave you the code, deny.',
  deviceSignInNext: 'you sign in next',
  deviceFrom: 'Requested from',
  deviceAgent: 'Device software',
  deviceWants: 'It will be able to:',
  deviceDoneTitle: 'Device connected',
  deviceDoneText: 'can now use your account. Go back to your device; it continues by itself.',
  deviceDoneClose: 'You can close this window.',
};

export type Messages = typeof en;

const ja: Messages = {
  languageSwitch: '言語',
  aside: (text: string) => `（${text}）`,
  signInTitle: 'サインイン',
  signInTo: (name: string) => html`${client(name)} を利用するには、サインインしてください。`,
  signInToAccount: 'アカウントを利用できるアプリを確認・管理するには、サインインしてください。',
  username: 'ユーザー名',
  password: 'パスワード',
  signIn: 'サインイン',
  cancel: 'キャンセル',
  invalidCredentials: 'ユーザー名またはパスワードが正しくありません。',
  signInWith: (name: string) => `${name} でサインイン`,
  orWithPassword: 'Sekisho のユーザー名とパスワードでサインインすることもできます。',
  localLoginOff: 'このサーバーでは、Sekisho のパスワードによるサインインは無効になっています。',
  throttled: (minutes: number) =>
    `サインインの試行回数が上限に達しました。${minutes} 分ほど待ってから、もう一度お試しください。`,
  busy: (seconds: number) =>
    `ただいまサインインが混み合っています。${seconds} 秒ほどしてからもう一度お試しください。`,
  busyHere: (seconds: number) =>
    `お使いのネットワークからのサインインが集中しています。${seconds} 秒ほどしてからもう一度お試しください。`,
  demoTitle: 'デモ用アカウント',
  demoNote:
    'デモモード専用のアカウントです。パスワードは公開されているため、本番環境ではデモモードを有効にしないでください。',
  role: '権限',
  roleName: (role: string) => ROLE_NAMES.ja[role as Role] ?? role,
  consentTitle: 'アクセスを許可しますか？',
  consentLead: (name: string) => html`${client(name)} が、あなたの Sekisho アカウントの利用を求めています。`,
  signedInAs: 'サインイン中',
  notYou: '別のアカウントでサインインする',
  unverifiedName: 'このアプリ名はアプリ自身が名乗ったもので、Sekisho は確認していません。',
  unverifiedDetails: 'アプリ名などの情報はアプリ自身が登録したもので、Sekisho は確認していません。',
  website: 'ウェブサイト',
  redirectsTo: '戻り先',
  returnsToDevice: 'コードを表示したデバイス',
  localhostWarning:
    'このアプリは、あなたのコンピューター上（localhost）で応答を受け取ります。たった今ご自身で起動したアプリである場合にだけ、続けてください。',
  willAllow: '許可される操作',
  withheld: 'あなたの権限では利用できないため、許可されない操作',
  remember: 'このアプリへの回答を記憶する',
  allow: '許可する',
  deny: '拒否する',
  errorCode: 'エラーコード',
  errorDetail: 'アプリ開発者向けの詳細（英語）',
  accountTitle: '許可したアプリ',
  accountLead:
    '次のアプリは、あなたとして Sekisho を利用できます。アクセスを取り消すと、そのアプリはすぐにサインアウトされます。',
  noApps: 'あなたのアカウントへのアクセスを許可したアプリはありません。',
  clientId: 'クライアント ID',
  authorizedOn: '初回許可日時',
  lastUsed: '最終利用日時',
  never: 'まだ利用されていません',
  revoke: 'アクセスを取り消す',
  signOut: 'サインアウト',
  revoked: (name: string) => `${name} のアクセスを取り消しました。`,
  timeZoneNote: '日時は協定世界時（UTC）で表示しています。',
  scopeDescription: (scope: string) => scopeInfo(scope)?.description.ja ?? OIDC_WORDS.ja[scope] ?? scope,
  deviceTitle: 'デバイスを接続',
  deviceLead: 'デバイスまたはターミナルに表示されているコードを入力してください。',
  deviceCodeLabel: 'コード',
  deviceCodeHint: '英字のみです。ハイフンや空白は無視されます。',
  deviceContinue: '次へ',
  deviceProblem: (p: DeviceProblemCode) => DEVICE_PROBLEMS.ja[p],
  deviceDenied: 'リクエストを拒否しました。デバイスにはアクセスが与えられません。',
  deviceConfirmTitle: 'あなたのデバイスですか？',
  deviceConfirmLead: 'がデバイスからあなたの Sekisho アカウントを使う許可を求めています。',
  deviceMatchWarning:
    'デバイスに同じコードが表示されていて、あなた自身が始めた場合だけ続けてください。他人からコードを渡された場合は拒否してください。',
  deviceSignInNext: 'このあとサインインします',
  deviceFrom: 'リクエスト元',
  deviceAgent: 'デバイスのソフトウェア',
  deviceWants: '許可される操作：',
  deviceDoneTitle: 'デバイスを接続しました',
  deviceDoneText:
    'があなたのアカウントを使えるようになりました。デバイスに戻ってください。自動的に続行します。',
  deviceDoneClose: 'このウィンドウは閉じてかまいません。',
};

const ROLE_NAMES: Record<Lang, Record<Role, string>> = {
  en: { admin: 'Administrator', user: 'User' },
  ja: { admin: '管理者', user: 'ユーザー' },
};

type DeviceProblemCode = 'wrong_code' | 'expired' | 'used' | 'throttled' | 'failed';

/** What went wrong with a code typed on the device page. */
const DEVICE_PROBLEMS: Record<Lang, Record<DeviceProblemCode, string>> = {
  en: {
    wrong_code: 'That code is not valid. Check it against your device and try again.',
    expired: 'That code has expired. Start again on your device to get a new one.',
    used: 'That code was already used. Start again on your device to get a new one.',
    throttled: 'Too many wrong codes from your network. Wait about 15 minutes and try again.',
    failed: 'The request could not be processed. Start again on your device.',
  },
  ja: {
    wrong_code: 'コードが正しくありません。デバイスの表示を確認してもう一度入力してください。',
    expired: 'コードの有効期限が切れました。デバイスでやり直して新しいコードを取得してください。',
    used: 'このコードは既に使われています。デバイスでやり直して新しいコードを取得してください。',
    throttled: '誤ったコードの入力が多すぎます。約 15 分待ってからもう一度お試しください。',
    failed: 'リクエストを処理できませんでした。デバイスでやり直してください。',
  },
};

/** Plain words for the OpenID scopes (the MCP ones live in the scope catalogue). */
const OIDC_WORDS: Record<Lang, Record<string, string>> = {
  en: {
    openid: 'Confirm who you are',
    profile: 'See your name and username',
    email: 'See your email address',
    offline_access: 'Stay connected while you are away (refresh tokens)',
  },
  ja: {
    openid: 'あなたが誰かを確認する',
    profile: 'あなたの名前とユーザー名を見る',
    email: 'あなたのメールアドレスを見る',
    offline_access: 'あなたが操作していない間も接続を保つ（リフレッシュトークン）',
  },
};

export const MESSAGES: Record<Lang, Messages> = { en, ja };

export interface FormattedTime {
  /** For `<time datetime>`: ISO 8601 in UTC. */
  readonly iso: string;
  /** For people, with its time zone named. */
  readonly text: string;
}

/**
 * A moment for the page, in UTC and labelled as such: the server cannot know the reader's time zone
 * (the pages run no script), and a time without a zone is a guess.
 */
export function formatTime(ms: number, lang: Lang): FormattedTime {
  const date = new Date(ms);
  const iso = `${date.toISOString().slice(0, 19)}Z`;
  const text =
    lang === 'ja'
      ? `${new Intl.DateTimeFormat('ja-JP', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date)}（UTC）`
      : `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
  return { iso, text };
}
