import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, parseComment, parseId, parseNewPost, parsePageRequest, parsePostPatch } from '../../src/board/boardInput.js';
import { excerptOf } from '../../src/board/boardEvents.js';

describe('board input', () => {
  it('when a title is 200 emoji, then it is accepted; at 201 it is refused (code points, not UTF-16 units)', () => {
    expect(parseNewPost({ title: '🙂'.repeat(200), body: 'b' }).title).toHaveLength(400);
    expect(() => parseNewPost({ title: '🙂'.repeat(201), body: 'b' })).toThrow(/title must be 1 to 200 characters after trimming \(got 201\)/);
  });

  it('when several fields are wrong, then all of them are named at once', () => {
    const failure = (() => {
      try {
        parseNewPost({ title: '', body: 5 });
      } catch (err) {
        return err as { fields: Record<string, string> };
      }
    })();

    expect(Object.keys(failure!.fields)).toEqual(['title', 'body']);
  });

  it('when a patch carries only a body, then only the body is returned (no undefined title key)', () => {
    expect(parsePostPatch({ body: ' new ' })).toStrictEqual({ body: 'new' });
  });

  it('when a comment has an unknown key, then it is refused by name', () => {
    expect(() => parseComment({ body: 'x', postId: 3 })).toThrow(/postId is not a known field/);
  });

  it.each(['1', '42', '9007199254740991'])('when id is %s, then it parses', (raw) => {
    expect(parseId(raw)).toBe(Number(raw));
  });

  it.each(['0', '-1', '01', '1.5', '1e3', ' 1', '9007199254740993', '', undefined])('when id is %j, then 400', (raw) => {
    expect(() => parseId(raw)).toThrow(expect.objectContaining({ status: 400, fields: { id: 'must be a positive integer' } }));
  });

  it('when a cursor is issued, then it decodes to the same id; foreign cursors decode to nothing', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    expect(decodeCursor(Buffer.from('p0').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('%%%')).toBeUndefined();
    expect(decodeCursor(Buffer.from('12345').toString('base64url'))).toBeUndefined();
  });

  it('when no paging is asked, then the default page size applies; extra query parameters are ignored', () => {
    expect(parsePageRequest({ _: '123' })).toEqual({ limit: 20, beforeId: undefined });
  });

  it('when an excerpt is cut, then it is at most 140 code points, keeps surrogate pairs whole and ends with an ellipsis', () => {
    const excerpt = excerptOf('👍'.repeat(200));

    expect([...excerpt]).toHaveLength(140);
    expect(excerpt).toBe(`${'👍'.repeat(139)}…`);
    expect(excerptOf('  short\n\ttext  ')).toBe('short text');
  });
});
