/** Small helpers for generated English in messages. */

/** "a string", "an integer", "an other entry": the indefinite article by the word's first letter. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}
