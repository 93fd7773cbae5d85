/**
 * The admin console's words in English and Japanese (the sign-in, consent and account pages' words
 * are in `i18n.ts`). Same house style: one word for signing in (サインイン), full-width punctuation,
 * no colon-joined fragments.
 */
import type { Lang } from './i18n.ts';

export const ADMIN_SECTIONS = ['users', 'clients', 'grants', 'keys', 'audit'] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

/** What a console action can report after it redirects back (fixed words: nothing from the request). */
export const ADMIN_NOTICES = [
  'user_added',
  'role_changed',
  'user_disabled',
  'user_enabled',
  'password_reset',
  'client_removed',
  'grant_revoked',
  'key_rotated',
] as const;
export type AdminNotice = (typeof ADMIN_NOTICES)[number];

/** Why a console action or filter was refused (fixed words: the input itself is never echoed). */
export const ADMIN_PROBLEMS = [
  'invalid_username',
  'invalid_name',
  'invalid_email',
  'invalid_role',
  'weak_password',
  'duplicate_username',
  'not_found',
  'not_on_yourself',
  'no_such_client',
  'no_such_grant',
  'bad_filter',
] as const;
export type AdminProblem = (typeof ADMIN_PROBLEMS)[number];

const en = {
  title: 'Administration',
  consoleLead: 'Manage who can sign in, which apps hold access, the signing keys, and what happened.',
  sections: {
    users: 'Users',
    clients: 'Apps',
    grants: 'Access grants',
    keys: 'Signing keys',
    audit: 'Audit log',
  } satisfies Record<AdminSection, string>,
  notices: {
    user_added: 'The user was added.',
    role_changed: 'The role was changed.',
    user_disabled: 'The user was disabled. Their sign-ins ended and every app lost access.',
    user_enabled: 'The user was enabled again.',
    password_reset: 'The password was reset. Their sign-ins ended and every app lost access.',
    client_removed: 'The app was removed, with every grant it held.',
    grant_revoked: 'The grant was revoked. The app must ask again.',
    key_rotated: 'A new signing key is active. The previous one still verifies during the overlap.',
  } satisfies Record<AdminNotice, string>,
  problems: {
    invalid_username:
      'That username is not allowed: use 1–64 lower-case letters, digits, dots, dashes or underscores.',
    invalid_name: 'That name is too long or holds control characters.',
    invalid_email: 'That email address is not valid.',
    invalid_role: 'Choose a role from the list.',
    weak_password: 'That password is too short or too long.',
    duplicate_username: 'A user with that username already exists.',
    not_found: 'There is no such user.',
    not_on_yourself:
      'You cannot change your own role or disable yourself here. Another administrator, or the sekisho command, can.',
    no_such_client: 'There is no such app.',
    no_such_grant: 'There is no such grant; it may have been revoked already.',
    bad_filter: 'The filter was not understood. Check the event type and the start time.',
  } satisfies Record<AdminProblem, string>,
  username: 'Username',
  name: 'Name',
  email: 'Email',
  role: 'Role',
  status: 'Status',
  created: 'Created',
  active: 'Active',
  disabled: 'Disabled',
  newPassword: 'New password',
  initialPassword: 'Password',
  passwordRule: (n: number) => `At least ${n} characters.`,
  addUser: 'Add a user',
  add: 'Add',
  changeRole: 'Change role',
  disable: 'Disable',
  enable: 'Enable',
  resetPassword: 'Reset password',
  resetPasswordNote: 'Resetting a password ends the user’s sign-ins and revokes every app’s access.',
  you: 'you',
  clientId: 'Client ID',
  kind: 'Kind',
  kinds: {
    dcr: 'Self-registered',
    cimd: 'Metadata document',
    machine: 'Machine',
    operator: 'Operator-registered',
    built_in: 'Built in',
  },
  lastUsed: 'Last used',
  expires: 'Expires',
  never: 'never',
  grants: 'Grants',
  remove: 'Remove',
  noClients: 'No apps are registered.',
  user: 'User',
  client: 'App',
  scopes: 'Scopes',
  revoke: 'Revoke',
  noGrants: 'No grants match.',
  filter: 'Filter',
  clearFilter: 'Clear',
  keyId: 'Key ID',
  algorithm: 'Algorithm',
  keyActive: 'Signing',
  keyRotated: 'Verifying only',
  rotatedAt: 'Rotated',
  rotate: 'Rotate the signing key',
  rotateNote:
    'New tokens are signed with a new key at once; tokens signed with the old one keep working until they expire.',
  time: 'Time',
  event: 'Event',
  outcome: 'Outcome',
  actor: 'By',
  address: 'Address',
  details: 'Details',
  since: 'Since',
  sinceHint: 'A date (2026-12-01) or an age (30m, 24h, 7d).',
  type: 'Event type',
  anyType: 'Any',
  noRecords: 'No records match.',
  showingNewest: (n: number) => `The newest ${n} matching records.`,
  success: 'success',
  failure: 'failure',
  notAdmin: 'This page is for administrators. Your account can manage its own apps on the account page.',
  toAccount: 'Go to your account page',
  timeZoneNote: 'Times are in Coordinated Universal Time (UTC).',
};

export type AdminWords = typeof en;

const ja: AdminWords = {
  title: '管理',
  consoleLead: 'サインインできるユーザー、アクセス権を持つアプリ、署名鍵、これまでの出来事を管理します。',
  sections: {
    users: 'ユーザー',
    clients: 'アプリ',
    grants: 'アクセス許可',
    keys: '署名鍵',
    audit: '監査ログ',
  },
  notices: {
    user_added: 'ユーザーを追加しました。',
    role_changed: '権限を変更しました。',
    user_disabled: 'ユーザーを無効にしました。サインインは終了し、すべてのアプリのアクセスを取り消しました。',
    user_enabled: 'ユーザーを再び有効にしました。',
    password_reset:
      'パスワードをリセットしました。サインインは終了し、すべてのアプリのアクセスを取り消しました。',
    client_removed: 'アプリを削除し、そのアプリのアクセス許可もすべて取り消しました。',
    grant_revoked: 'アクセス許可を取り消しました。アプリは改めて許可を求める必要があります。',
    key_rotated: '新しい署名鍵を有効にしました。以前の鍵も移行期間中は検証に使われます。',
  },
  problems: {
    invalid_username:
      'このユーザー名は使えません。小文字の英字、数字、ピリオド、ハイフン、アンダースコアを 1～64 文字で指定してください。',
    invalid_name: '名前が長すぎるか、制御文字が含まれています。',
    invalid_email: 'メールアドレスが正しくありません。',
    invalid_role: '一覧から権限を選んでください。',
    weak_password: 'パスワードが短すぎるか、長すぎます。',
    duplicate_username: 'このユーザー名のユーザーは既に存在します。',
    not_found: '該当するユーザーはいません。',
    not_on_yourself:
      'ご自身の権限の変更や無効化はここではできません。ほかの管理者か sekisho コマンドで行ってください。',
    no_such_client: '該当するアプリはありません。',
    no_such_grant: '該当するアクセス許可はありません。既に取り消された可能性があります。',
    bad_filter: '絞り込みの条件を解釈できませんでした。イベントの種類と開始日時を確認してください。',
  },
  username: 'ユーザー名',
  name: '名前',
  email: 'メールアドレス',
  role: '権限',
  status: '状態',
  created: '作成日時',
  active: '有効',
  disabled: '無効',
  newPassword: '新しいパスワード',
  initialPassword: 'パスワード',
  passwordRule: (n: number) => `${n} 文字以上。`,
  addUser: 'ユーザーを追加',
  add: '追加する',
  changeRole: '権限を変更する',
  disable: '無効にする',
  enable: '有効にする',
  resetPassword: 'パスワードをリセットする',
  resetPasswordNote:
    'パスワードをリセットすると、そのユーザーのサインインは終了し、すべてのアプリのアクセスが取り消されます。',
  you: 'あなた',
  clientId: 'クライアント ID',
  kind: '種類',
  kinds: {
    dcr: '自己登録',
    cimd: 'メタデータ文書',
    machine: 'マシン',
    operator: 'オペレーターが登録',
    built_in: '組み込み',
  },
  lastUsed: '最終利用日時',
  expires: '有効期限',
  never: 'なし',
  grants: 'アクセス許可',
  remove: '削除する',
  noClients: '登録されたアプリはありません。',
  user: 'ユーザー',
  client: 'アプリ',
  scopes: 'スコープ',
  revoke: '取り消す',
  noGrants: '該当するアクセス許可はありません。',
  filter: '絞り込む',
  clearFilter: '解除する',
  keyId: '鍵 ID',
  algorithm: 'アルゴリズム',
  keyActive: '署名に使用中',
  keyRotated: '検証のみ',
  rotatedAt: '交換日時',
  rotate: '署名鍵を交換する',
  rotateNote:
    '新しいトークンはすぐに新しい鍵で署名されます。古い鍵で署名されたトークンは有効期限まで使えます。',
  time: '日時',
  event: 'イベント',
  outcome: '結果',
  actor: '実行者',
  address: 'アドレス',
  details: '詳細',
  since: '開始日時',
  sinceHint: '日付（2026-12-01）または経過時間（30m、24h、7d）で指定します。',
  type: 'イベントの種類',
  anyType: 'すべて',
  noRecords: '該当する記録はありません。',
  showingNewest: (n: number) => `該当する記録のうち新しいもの ${n} 件を表示しています。`,
  success: '成功',
  failure: '失敗',
  notAdmin: 'このページは管理者専用です。ご自身のアプリはアカウントページで管理できます。',
  toAccount: 'アカウントページへ',
  timeZoneNote: '日時は協定世界時（UTC）で表示しています。',
};

export const ADMIN_WORDS: Record<Lang, AdminWords> = { en, ja };

/** Every Japanese string the console can show, for the house-style test. */
export function adminJapaneseStrings(): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'function') out.push(String(value(3)));
    else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v);
  };
  walk(ADMIN_WORDS.ja);
  return out;
}
