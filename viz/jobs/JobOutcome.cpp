#include "jobs/JobOutcome.h"

#include "common/Error.h"

namespace convscope {

JobError JobError::from(std::exception_ptr thrown)
{
    JobError e;
    try {
        std::rethrow_exception(thrown);
    } catch (const UsageError &x) {
        e = {Kind::Usage, QString::fromStdString(x.what())};
    } catch (const IoError &x) {
        e = {Kind::Io, QString::fromStdString(x.what())};
    } catch (const ModelLoadError &x) {
        e = {Kind::ModelLoad, QString::fromStdString(x.what())};
    } catch (const UnsupportedModelError &x) {
        e = {Kind::UnsupportedModel, QString::fromStdString(x.what())};
    } catch (const DataError &x) {
        e = {Kind::Data, QString::fromStdString(x.what())};
    } catch (const Error &x) {
        e = {Kind::Other, QString::fromStdString(x.what())};
    } catch (const std::exception &x) {
        e = {Kind::Unexpected, QStringLiteral("unexpected error: ") + QString::fromStdString(x.what())};
    } catch (...) {
        e = {Kind::Unexpected, QStringLiteral("unexpected error")};
    }
    return e;
}

} // namespace convscope
