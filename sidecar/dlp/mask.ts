/**
 * The character a JSON view (json-view.ts) shows the scanner in place of a protocol-opaque value:
 * each one stands for a run of the value's raw text. It never occurs in a view otherwise (views are
 * latin1 text, one char per byte), and the scanner never takes a match that covers one (scanner.ts).
 */
export const MASK = '\uffff';
