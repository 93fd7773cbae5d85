/**
 * What an OAuth error means for the person looking at the page, and what they can do about it, in
 * both languages. oidc-provider's own wording ("client is invalid") is written for developers; the
 * page shows these words instead and keeps the code, small, for whoever the user asks for help.
 * Codes that mean the same to a user share an entry (`ALIASES`); anything unknown gets `default`.
 */
import type { Lang } from './i18n.ts';

export interface ErrorWords {
  readonly title: string;
  /** What happened, in plain words. */
  readonly what: string;
  /** What to do next. */
  readonly next: string;
}

type Entry = Record<Lang, ErrorWords>;

const WORDS = {
  invalid_client: {
    en: {
      title: 'This app is not registered here',
      what: 'Sekisho does not know the app that sent you here, or the app’s registration has expired.',
      next: 'Go back to the app and connect again; it can register itself anew.',
    },
    ja: {
      title: 'このアプリは登録されていません',
      what: 'ここへ案内したアプリは Sekisho に登録されていないか、登録の有効期限が切れています。',
      next: 'アプリに戻って、もう一度接続してください。アプリは自動で登録し直せます。',
    },
  },
  invalid_redirect_uri: {
    en: {
      title: 'Unknown return address',
      what: 'The app asked to send you back to an address it never registered, so Sekisho stopped the sign-in to protect you.',
      next: 'There is nothing for you to fix. Let the app’s developer know, with the error code below.',
    },
    ja: {
      title: '戻り先が登録されていません',
      what: 'アプリが登録していない宛先へ戻ろうとしたため、安全のためにサインインを中止しました。',
      next: 'お客様の操作に問題はありません。下のエラーコードを添えて、アプリの開発者にお知らせください。',
    },
  },
  invalid_request: {
    en: {
      title: 'The app sent an invalid request',
      what: 'The sign-in request from the app is incomplete or not valid.',
      next: 'Start again from the app. If it happens again, let the app’s developer know, with the error code below.',
    },
    ja: {
      title: 'アプリからの要求が正しくありません',
      what: 'アプリから届いたサインインの要求に、不足または誤りがあります。',
      next: 'アプリからもう一度やり直してください。繰り返し起きる場合は、下のエラーコードを添えてアプリの開発者にお知らせください。',
    },
  },
  invalid_scope: {
    en: {
      title: 'The app asked for unknown permissions',
      what: 'The app asked for permissions this server does not offer.',
      next: 'Start again from the app. If it happens again, let the app’s developer know, with the error code below.',
    },
    ja: {
      title: 'アプリが不明な権限を求めました',
      what: 'アプリが、このサーバーにはない権限を求めました。',
      next: 'アプリからもう一度やり直してください。繰り返し起きる場合は、下のエラーコードを添えてアプリの開発者にお知らせください。',
    },
  },
  invalid_target: {
    en: {
      title: 'The app asked for another server',
      what: 'The app asked for access to a server other than this one.',
      next: 'Check the server address configured in the app, then connect again.',
    },
    ja: {
      title: 'アプリが別のサーバーを指定しました',
      what: 'アプリが、このサーバー以外へのアクセスを求めました。',
      next: 'アプリに設定したサーバーのアドレスを確認して、もう一度接続してください。',
    },
  },
  unauthorized_client: {
    en: {
      title: 'This app may not sign in this way',
      what: 'The app’s registration does not allow the kind of sign-in it asked for.',
      next: 'Let the app’s developer know, with the error code below.',
    },
    ja: {
      title: 'このアプリにはこの方法でのサインインが許可されていません',
      what: 'アプリの登録内容では、求められた方法でサインインできません。',
      next: '下のエラーコードを添えて、アプリの開発者にお知らせください。',
    },
  },
  session_not_found: {
    en: {
      title: 'This sign-in has expired',
      what: 'The sign-in request has expired, or it was opened in a different browser from the one that started it.',
      next: 'Go back to the app and start again.',
    },
    ja: {
      title: 'サインインの有効期限が切れました',
      what: 'サインインの要求が期限切れになったか、開始したときとは別のブラウザーで開かれました。',
      next: 'アプリに戻って、最初からやり直してください。',
    },
  },
  login_required: {
    en: {
      title: 'Please sign in again',
      what: 'You are no longer signed in to Sekisho.',
      next: 'Go back to the app and start again; you will be asked to sign in.',
    },
    ja: {
      title: 'もう一度サインインしてください',
      what: 'Sekisho へのサインインが切れています。',
      next: 'アプリに戻って、最初からやり直してください。サインインの画面が表示されます。',
    },
  },
  access_denied: {
    en: {
      title: 'Access was not allowed',
      what: 'The request was cancelled, so the app received no access.',
      next: 'You can close this window. To try again, start from the app.',
    },
    ja: {
      title: 'アクセスは許可されませんでした',
      what: '要求が取り消されたため、アプリにはアクセスが与えられていません。',
      next: 'このウィンドウは閉じてかまいません。やり直す場合は、アプリから始めてください。',
    },
  },
  invalid_csrf_token: {
    en: {
      title: 'This form has expired',
      what: 'The form has expired, or it was not sent from this site.',
      next: 'Go back, reload the page and try again.',
    },
    ja: {
      title: 'フォームの有効期限が切れました',
      what: 'フォームの有効期限が切れたか、このサイト以外から送信されました。',
      next: '前の画面に戻り、ページを再読み込みしてから、もう一度お試しください。',
    },
  },
  server_error: {
    en: {
      title: 'Something went wrong on our side',
      what: 'Sekisho could not complete the request.',
      next: 'Wait a moment and try again. If it keeps happening, tell the server’s administrator the error code below.',
    },
    ja: {
      title: 'サーバー側で問題が発生しました',
      what: 'Sekisho は要求を処理できませんでした。',
      next: 'しばらく待ってから、もう一度お試しください。繰り返し起きる場合は、下のエラーコードをサーバーの管理者にお伝えください。',
    },
  },
  temporarily_unavailable: {
    en: {
      title: 'Sign-in is briefly unavailable',
      what: 'The server cannot reach its database right now.',
      next: 'Wait a few seconds and try again.',
    },
    ja: {
      title: '一時的にサインインできません',
      what: 'サーバーがデータベースに接続できない状態です。',
      next: '数秒待ってから、もう一度お試しください。',
    },
  },
  upstream_unavailable: {
    en: {
      title: 'Your sign-in service cannot be reached',
      what: 'Sekisho could not reach the identity provider you chose, or it did not answer in time.',
      next: 'Wait a moment and try again. If it keeps happening, tell whoever runs this server.',
    },
    ja: {
      title: 'サインインに使うサービスに接続できません',
      what: '選んだ 認証サービスに接続できないか、時間内に応答がありませんでした。',
      next: '少し待ってから、もう一度お試しください。続く場合は、このサーバーの管理者に連絡してください。',
    },
  },
  upstream_sign_in_failed: {
    en: {
      title: 'The sign-in answer could not be trusted',
      what: 'The identity provider’s answer did not pass Sekisho’s checks, so nobody was signed in.',
      next: 'Go back to the app and sign in again. If it keeps happening, tell whoever runs this server, with the error code below.',
    },
    ja: {
      title: 'サインインの応答を確認できませんでした',
      what: '認証サービスからの応答が Sekisho の検証を通らなかったため、サインインしませんでした。',
      next: 'アプリに戻って、もう一度サインインしてください。続く場合は、下のエラーコードを添えてこのサーバーの管理者に連絡してください。',
    },
  },
  upstream_state_invalid: {
    en: {
      title: 'This sign-in link has expired',
      what: 'The answer from the identity provider belongs to a sign-in that is unknown here, was started in another browser, has already been used, or took too long.',
      next: 'Go back to the app and sign in again.',
    },
    ja: {
      title: 'このサインインは無効になっています',
      what: '認証サービスからの応答が、このブラウザーで始めたサインインのものではないか、すでに使われたか、時間が経ちすぎています。',
      next: 'アプリに戻って、もう一度サインインしてください。',
    },
  },
  account_not_admitted: {
    en: {
      title: 'This account may not use this server',
      what: 'You signed in at your identity provider, but this server’s rules do not admit your account (your group or e-mail domain).',
      next: 'Ask whoever runs this server for access, or sign in with another account.',
    },
    ja: {
      title: 'このアカウントではこのサーバーを利用できません',
      what: '認証サービスでのサインインは成功しましたが、このサーバーの規則（グループやメールのドメイン）ではあなたのアカウントを受け付けていません。',
      next: 'このサーバーの管理者に利用を申請するか、別のアカウントでサインインしてください。',
    },
  },
  default: {
    en: {
      title: 'The sign-in could not be completed',
      what: 'Sekisho could not complete the sign-in.',
      next: 'Close this window and start again from the app.',
    },
    ja: {
      title: 'サインインを完了できませんでした',
      what: 'Sekisho でサインインを完了できませんでした。',
      next: 'このウィンドウを閉じて、アプリからもう一度やり直してください。',
    },
  },
} satisfies Record<string, Entry>;

type Known = keyof typeof WORDS;

/** Codes that mean the same thing to the person on the page. */
const ALIASES: Record<string, Known> = {
  invalid_request_object: 'invalid_request',
  invalid_request_uri: 'invalid_request',
  request_not_supported: 'invalid_request',
  request_uri_not_supported: 'invalid_request',
  unsupported_response_type: 'invalid_request',
  unsupported_response_mode: 'invalid_request',
  invalid_client_metadata: 'invalid_client',
  unmet_authentication_requirements: 'login_required',
  interaction_required: 'login_required',
  consent_required: 'login_required',
  account_selection_required: 'login_required',
  upstream_access_denied: 'access_denied',
};

/** The words for an OAuth error code; the code itself is shown next to them, not inside. */
export function errorWords(code: string | undefined, lang: Lang): ErrorWords {
  const key = code ?? '';
  const known: Known = Object.hasOwn(WORDS, key)
    ? (key as Known)
    : Object.hasOwn(ALIASES, key)
      ? ALIASES[key]!
      : 'default';
  return WORDS[known][lang];
}

/** Every code that has words of its own or through an alias (tests walk it). */
export const EXPLAINED_CODES: readonly string[] = [
  ...Object.keys(WORDS).filter((c) => c !== 'default'),
  ...Object.keys(ALIASES),
];
