// Appends this jest run's counts to $MERCATO_TEST_SUMMARY so scripts/test.sh can close with one
// "N passed, N failed, N skipped" line over the unit and integration runs together.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.MERCATO_TEST_SUMMARY;
    const failedSuites = results.numRuntimeErrorTestSuites + (results.numFailedTestSuites > 0 && results.numFailedTests === 0 ? 1 : 0);
    const line = [
      results.numPassedTests,
      results.numFailedTests + failedSuites,
      results.numPendingTests + results.numTodoTests,
    ].join(' ');
    if (file) appendFileSync(file, `${line}\n`);
  }
}

module.exports = SummaryReporter;
