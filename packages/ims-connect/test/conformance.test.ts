import { conformance } from './conformance.js';

conformance('memory');
conformance('tcp');
