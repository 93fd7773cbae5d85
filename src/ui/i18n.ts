/**
 * English and Japanese for every page, chosen from Accept-Language (RFC 9110 §12.5.4: the highest
 * q-value among the languages we have wins; English otherwise). Scope wording comes from the scope
 * catalogue (`access/scopes.ts`), so the consent page and the tools never disagree.
 */
import { scopeInfo } from '../access/scopes.ts';

export type Lang = 'en' | 'ja';

export function pickLanguage(acceptLanguage: string | undefined): Lang {
  let best: { lang: Lang; q: number } | undefined;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang: Lang | undefined = tag.startsWith('ja') ? 'ja' : tag.startsWith('en') ? 'en' : undefined;
    if (lang && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}

const en = {
  product: 'Sekisho',
  signInTitle: 'Sign in',
  signInTo: 'Sign in to continue to',
  signInToAccount: 'Sign in to manage the apps that can use your account.',
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  cancel: 'Cancel',
  invalidCredentials: 'The username or password is incorrect.',
  throttled: (minutes: number) =>
    `Too many sign-in attempts. Please wait about ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`,
  demoTitle: 'Demo accounts',
  demoNote: 'Demo mode only. These passwords are public — never enable demo mode in production.',
  role: 'Role',
  consentTitle: 'Allow access?',
  consentLead: 'wants to access your Sekisho account.',
  signedInAs: 'Signed in as',
  notYou: 'Not you?',
  unverifiedName: 'The app chose this name itself; Sekisho has not verified it.',
  redirectsTo: 'Returns to',
  localhostWarning:
    'This app receives the answer on your own computer (localhost). Continue only if you started it yourself just now.',
  willAllow: 'It will be able to:',
  withheld: 'Not available to your account (not granted):',
  remember: 'Remember my decision for this app',
  allow: 'Allow',
  deny: 'Deny',
  errorTitle: 'Something went wrong',
  errorClose: 'You can close this window and start again from the app.',
  errorExplanation: (code: string | undefined) => ERROR_WORDS.en[code ?? ''] ?? ERROR_WORDS.en.default!,
  forbiddenTitle: 'Request refused',
  forbiddenText:
    'This form has expired or did not come from this site. Go back, reload the page and try again.',
  accountTitle: 'Your authorized apps',
  accountLead: 'These apps can use Sekisho as you. Revoking access signs the app out at once.',
  noApps: 'No apps have access to your account.',
  authorizedOn: 'Authorized',
  lastUsed: 'Last used',
  never: 'not yet',
  revoke: 'Revoke access',
  signOut: 'Sign out',
  revoked: (name: string) => `Access for ${name} was revoked.`,
  scopeDescription: (scope: string) => scopeInfo(scope)?.description.en ?? OIDC_WORDS.en[scope] ?? scope,
};

export type Messages = typeof en;

const ja: Messages = {
  product: 'Sekisho',
  signInTitle: 'サインイン',
  signInTo: '次のアプリを続けるにはサインインしてください:',
  signInToAccount: 'あなたのアカウントを使えるアプリを管理するにはサインインしてください。',
  username: 'ユーザー名',
  password: 'パスワード',
  signIn: 'サインイン',
  cancel: 'キャンセル',
  invalidCredentials: 'ユーザー名またはパスワードが正しくありません。',
  throttled: (minutes: number) =>
    `サインインの試行回数が多すぎます。約 ${minutes} 分待ってからもう一度お試しください。`,
  demoTitle: 'デモ用アカウント',
  demoNote:
    'デモモード専用です。パスワードは公開されています。本番環境ではデモモードを有効にしないでください。',
  role: 'ロール',
  consentTitle: 'アクセスを許可しますか?',
  consentLead: 'があなたの Sekisho アカウントへのアクセスを求めています。',
  signedInAs: 'サインイン中',
  notYou: '別のユーザーですか?',
  unverifiedName: 'この名前はアプリ自身が名乗ったもので、Sekisho は確認していません。',
  redirectsTo: '戻り先',
  localhostWarning:
    'このアプリはあなたのコンピューター上(localhost)で結果を受け取ります。今あなた自身が起動したアプリの場合だけ続けてください。',
  willAllow: '許可される操作:',
  withheld: 'あなたのアカウントでは利用できないため付与されません:',
  remember: 'このアプリに対する選択を記憶する',
  allow: '許可',
  deny: '拒否',
  errorTitle: 'エラーが発生しました',
  errorClose: 'このウィンドウを閉じて、アプリからもう一度やり直してください。',
  errorExplanation: (code: string | undefined) => ERROR_WORDS.ja[code ?? ''] ?? ERROR_WORDS.ja.default!,
  forbiddenTitle: 'リクエストを拒否しました',
  forbiddenText:
    'このフォームは期限切れか、このサイトから送信されたものではありません。戻ってページを再読み込みしてください。',
  accountTitle: '許可したアプリ',
  accountLead:
    '以下のアプリはあなたとして Sekisho を使えます。アクセスを取り消すと、そのアプリはすぐにサインアウトされます。',
  noApps: 'あなたのアカウントにアクセスできるアプリはありません。',
  authorizedOn: '許可した日時',
  lastUsed: '最終利用',
  never: 'まだありません',
  revoke: 'アクセスを取り消す',
  signOut: 'サインアウト',
  revoked: (name: string) => `${name} のアクセスを取り消しました。`,
  scopeDescription: (scope: string) => scopeInfo(scope)?.description.ja ?? OIDC_WORDS.ja[scope] ?? scope,
};

/** What an OAuth error means for the person looking at the page. */
const ERROR_WORDS: Record<Lang, Record<string, string>> = {
  en: {
    invalid_client:
      'This app is not registered here, or its registration has expired. Start again from the app; it can register itself again.',
    invalid_redirect_uri:
      'The app asked to send you back to an address it never registered, so the sign-in was stopped to protect you.',
    invalid_request: 'The app sent an incomplete or invalid sign-in request.',
    session_not_found:
      'This sign-in request has expired or was opened in another browser. Start again from the app.',
    login_required: 'Your sign-in has expired. Start again from the app.',
    temporarily_unavailable:
      'Sign-in is briefly unavailable (the server cannot reach its database). Wait a few seconds and try again.',
    default: 'The sign-in could not be completed.',
  },
  ja: {
    invalid_client:
      'このアプリはここに登録されていないか、登録の有効期限が切れています。アプリからやり直してください(アプリは自動的に再登録できます)。',
    invalid_redirect_uri:
      'アプリが登録していない宛先へ戻ろうとしたため、安全のためサインインを中止しました。',
    invalid_request: 'アプリから送られたサインイン要求が不完全か正しくありません。',
    session_not_found:
      'このサインイン要求は期限切れか、別のブラウザーで開かれました。アプリからもう一度始めてください。',
    login_required: 'サインインの有効期限が切れました。アプリからもう一度始めてください。',
    temporarily_unavailable:
      'サーバーがデータベースに接続できないため、一時的にサインインできません。数秒待ってからもう一度お試しください。',
    default: 'サインインを完了できませんでした。',
  },
};

/** Plain words for the OpenID scopes (the MCP ones live in the scope catalogue). */
const OIDC_WORDS: Record<Lang, Record<string, string>> = {
  en: {
    openid: 'Confirm who you are',
    profile: 'See your name and username',
    email: 'See your email address',
    offline_access: 'Keep access while you are away (refresh tokens)',
  },
  ja: {
    openid: 'あなたが誰かを確認する',
    profile: 'あなたの名前とユーザー名を見る',
    email: 'あなたのメールアドレスを見る',
    offline_access: 'あなたが離れている間もアクセスを維持する(リフレッシュトークン)',
  },
};

export const MESSAGES: Record<Lang, Messages> = { en, ja };

export function formatTime(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(ms));
}
