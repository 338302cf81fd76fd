// Plain JavaScript: require('iomux') as an untyped CommonJS program would.
'use strict';
const { socketpair, select } = require('iomux');

const [a, b] = socketpair();
a.sendall('ping');
const [r] = select([b], [], [], 1);
a.close();
b.close();
if (r.length !== 1) throw new Error('select: b not readable');
console.log('plain require: ok');
