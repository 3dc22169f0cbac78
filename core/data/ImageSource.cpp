#include "data/ImageSource.h"

#include "common/Error.h"
#include "data/FileListSource.h"
#include "data/FolderSource.h"
#include "data/IdxSource.h"

#include <QDir>
#include <QFileInfo>

namespace convscope {

std::unique_ptr<ImageSource> ImageSource::open(const std::string &path)
{
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists())
        throw IoError("dataset '" + path + "' does not exist");
    if (info.isDir()) {
        // A folder of idx files (like Debian's fashion-mnist package) is read as all its idx image files.
        const QStringList idx = QDir(info.absoluteFilePath())
                                    .entryList({"*-images-idx3-ubyte", "*-images-idx3-ubyte.gz"}, QDir::Files,
                                               QDir::Name);
        if (!idx.isEmpty()) {
            std::vector<std::string> files;
            for (const QString &f : idx)
                files.push_back(QDir(info.absoluteFilePath()).filePath(f).toStdString());
            return std::make_unique<IdxSource>(files);
        }
        return std::make_unique<FolderSource>(path);
    }
    if (info.fileName().contains("idx3-ubyte"))
        return std::make_unique<IdxSource>(std::vector<std::string>{path});
    return std::make_unique<FileListSource>(std::vector<std::string>{path});
}

} // namespace convscope
